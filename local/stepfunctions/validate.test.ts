import type { AslMachine } from './asl.js';
import { LocalStepFunctions } from './engine.js';
import { assertSupportedDefinition, findUnsupportedFeatures, UnsupportedDefinitionError } from './validate.js';

const machine = (states: AslMachine['States'], extra: Record<string, unknown> = {}): AslMachine => ({ StartAt: Object.keys(states)[0]!, States: states, ...extra });
const reasons = (definition: AslMachine) => findUnsupportedFeatures(definition).map((p) => `${p.state ?? '-'}: ${p.reason}`);

describe('findUnsupportedFeatures', () => {
  it('accepts a JSONPath definition with Parallel, inline Map, Retry/Catch and intrinsics', () => {
    const definition = machine({
      Start: { Type: 'Pass', Parameters: { 'id.$': 'States.Format(\'b-{}\', $.batchId)', 'start.$': '$$.Execution.StartTime' }, Next: 'Both' },
      Both: {
        Type: 'Parallel',
        Branches: [
          machine({ Describe: { Type: 'Task', Resource: 'arn:aws:states:::aws-sdk:comprehendmedical:describeEntitiesDetectionV2Job', Retry: [{ ErrorEquals: ['States.ALL'] }], End: true } }),
          machine({ Each: { Type: 'Map', ItemsPath: '$.items', ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, ...machine({ Put: { Type: 'Pass', End: true } }) }, End: true } }),
        ],
        Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Failed', ResultPath: '$.error' }],
        Next: 'Done',
      },
      Failed: { Type: 'Fail', Error: 'JobFailed' },
      Done: { Type: 'Succeed' },
    });
    expect(findUnsupportedFeatures(definition)).toEqual([]);
    expect(() => assertSupportedDefinition(definition)).not.toThrow();
  });

  it('refuses JSONata at the top level and per state', () => {
    expect(reasons(machine({ A: { Type: 'Pass', End: true } }, { QueryLanguage: 'JSONata' }))).toEqual(['-: JSONata (QueryLanguage: "JSONata") is not supported']);
    expect(reasons(machine({ A: { Type: 'Pass', QueryLanguage: 'JSONata', Output: '{% $states.input %}', End: true } }))).toEqual([
      'A: JSONata (QueryLanguage: "JSONata") is not supported',
      'A: "Output" is a JSONata field and is not supported',
    ]);
  });

  it('refuses variables, JSONata-only fields and variable references, naming the state', () => {
    const definition = machine({
      SetVar: { Type: 'Pass', Assign: { n: 1 }, Next: 'Call' },
      Call: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Arguments: { FunctionName: 'f' }, Next: 'UseVar' },
      UseVar: { Type: 'Pass', Parameters: { 'n.$': '$n', 'm.$': "States.Format('cost $5 {}', $total)" }, Next: 'Pick' },
      Pick: { Type: 'Choice', Choices: [{ Variable: '$count', NumericEquals: 1, Next: 'End', Assign: { x: 1 } }], Default: 'End' },
      End: { Type: 'Succeed' },
    });
    expect(reasons(definition)).toEqual([
      'SetVar: variables ("Assign") are not supported',
      'Call: "Arguments" is a JSONata field and is not supported',
      'UseVar: variable references ($n, $total) are not supported',
      'Pick: variables ("Assign" in Choices) are not supported',
      'Pick: variable references ($count) are not supported',
    ]);
  });

  it('refuses Distributed Map and the .sync / .waitForTaskToken patterns, also inside branches', () => {
    const definition = machine({
      Fan: {
        Type: 'Parallel',
        Branches: [
          machine({
            Big: {
              Type: 'Map',
              ItemReader: { Resource: 'arn:aws:states:::s3:getObject' },
              ItemBatcher: { MaxItemsPerBatch: 10 },
              ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' }, ...machine({ P: { Type: 'Pass', End: true } }) },
              End: true,
            },
          }),
          machine({ Child: { Type: 'Task', Resource: 'arn:aws:states:::states:startExecution.sync:2', Next: 'Cb' }, Cb: { Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken', End: true } }),
        ],
        End: true,
      },
    });
    expect(reasons(definition)).toEqual([
      'Big: Distributed Map ("ItemReader") is not supported',
      'Big: Distributed Map ("ItemBatcher") is not supported',
      'Big: Distributed Map (ProcessorConfig.Mode: DISTRIBUTED) is not supported',
      'Child: the ".sync" integration pattern is not supported (arn:aws:states:::states:startExecution.sync:2)',
      'Cb: the ".waitForTaskToken" integration pattern is not supported (arn:aws:states:::sqs:sendMessage.waitForTaskToken)',
    ]);
  });

  it('refuses duplicate state names across branches', () => {
    const definition = machine({
      Fan: { Type: 'Parallel', Branches: [machine({ Same: { Type: 'Pass', End: true } }), machine({ Same: { Type: 'Pass', End: true } })], End: true },
    });
    expect(reasons(definition)).toEqual(['Same: the state name is used 2 times; state names must be unique']);
  });

  it('throws one error listing every problem', () => {
    const definition = machine({ A: { Type: 'Pass', Assign: { a: 1 }, End: true } }, { QueryLanguage: 'JSONata' });
    expect(() => assertSupportedDefinition(definition)).toThrow(UnsupportedDefinitionError);
    expect(() => assertSupportedDefinition(definition)).toThrow(/definition: JSONata[\s\S]*state "A": variables/);
  });

  it('makes the engine refuse a JSONata definition at createStateMachine', () => {
    const sfn = new LocalStepFunctions();
    expect(() =>
      sfn.createStateMachine({
        arn: 'arn:aws:states:us-east-1:000000000000:stateMachine:Jsonata',
        definition: JSON.stringify({ QueryLanguage: 'JSONata', StartAt: 'A', States: { A: { Type: 'Pass', Output: '{% 1 %}', End: true } } }),
      }),
    ).toThrow(/JSONata \(QueryLanguage: "JSONata"\) is not supported/);
  });
});
