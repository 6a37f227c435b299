import { EventPatternError, matchesEventPattern, validateEventPattern } from './event-pattern.js';

// The sample event of the EventBridge / Event Ruler documentation.
const ec2Event = {
  version: '0',
  id: 'ddddd4-aaaa-7777-4444-345dd43cc333',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '012345679012',
  time: '2017-10-02T16:24:49Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
  detail: {
    'c-count': 5,
    'd-count': 3,
    'x-limit': 301.8,
    'source-ip': '10.0.0.33',
    'instance-id': 'i-000000aaaaaa00000',
    state: 'running',
  },
};

const yes = (pattern: object, event: object = ec2Event) => expect(matchesEventPattern(pattern, event)).toBe(true);
const no = (pattern: object, event: object = ec2Event) => expect(matchesEventPattern(pattern, event)).toBe(false);

describe('matchesEventPattern', () => {
  it('matches exact values, ANDs fields and ORs listed values', () => {
    yes({
      'detail-type': ['EC2 Instance State-change Notification'],
      resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
      detail: { state: ['initializing', 'running'] },
    });
    no({ source: ['aws.ec2'], detail: { state: ['terminated'] } });
    no({ source: ['aws.s3'], detail: { state: ['running'] } });
    no({ detail: { missing: ['running'] } });
  });

  it('is type-sensitive for exact values', () => {
    yes({ detail: { 'c-count': [5] } });
    no({ detail: { 'c-count': ['5'] } });
    yes({ flag: [true], nothing: [null], empty: [''] }, { flag: true, nothing: null, empty: '' });
    no({ flag: ['true'] }, { flag: true });
    no({ nothing: [null] }, {});
  });

  it('matches when the intersection with an event array is non-empty', () => {
    const pattern = {
      resources: [
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f',
      ],
    };
    yes(pattern, {
      resources: [
        'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate',
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
      ],
    });
    no(pattern, { resources: ['arn:aws:ec2:us-east-1:999999999999:instance/i-b188560f'] });
  });

  it('matches nested objects only with the same nesting', () => {
    yes({ detail: { state: ['running'] } });
    no({ state: ['running'] });
    no({ detail: { state: { name: ['running'] } } });
  });

  it('applies array-consistent matching to arrays of objects', () => {
    const event = {
      employees: [
        { firstName: 'John', lastName: 'Doe' },
        { firstName: 'Anna', lastName: 'Smith' },
        { firstName: 'Peter', lastName: 'Jones' },
      ],
    };
    yes({ employees: { firstName: ['Anna'] } }, event);
    yes({ employees: { firstName: ['Anna'], lastName: ['Smith'] } }, event);
    no({ employees: { firstName: ['Anna'], lastName: ['Jones'] } }, event);
    yes({ employees: { firstName: ['Peter'] } }, { employees: [[{ firstName: 'John' }], [{ firstName: 'Peter' }]] });
  });

  it('supports prefix and suffix, also ignoring case', () => {
    yes({ time: [{ prefix: '2017-10-02' }] });
    no({ time: [{ prefix: '2017-10-03' }] });
    yes({ source: [{ suffix: 'ec2' }] });
    no({ source: [{ suffix: 'EC2' }] });
    yes({ source: [{ suffix: { 'equals-ignore-case': 'EC2' } }] });
    yes({ service: [{ prefix: { 'equals-ignore-case': 'eventb' } }] }, { service: 'EventBridge' });
    yes({ service: [{ suffix: { 'equals-ignore-case': 'tbridge' } }] }, { service: 'EVENTBRIDGE' });
    no({ detail: { 'c-count': [{ prefix: '5' }] } }); // strings only
  });

  it('supports equals-ignore-case', () => {
    yes({ source: [{ 'equals-ignore-case': 'AWS.EC2' }] });
    yes({ Name: [{ 'equals-ignore-case': 'alice' }] }, { Name: 'Alice' });
    no({ Name: [{ 'equals-ignore-case': 'alicia' }] }, { Name: 'Alice' });
  });

  it('supports wildcards with escapes', () => {
    yes({ source: [{ wildcard: 'aws.*' }] });
    yes({ EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] }, { EventBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/chartflow' });
    no({ EventBusArn: [{ wildcard: 'arn:aws:events:us-west-2:*:event-bus/*' }] }, { EventBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/chartflow' });
    yes({ FilePath: [{ wildcard: 'dir/*.png' }] }, { FilePath: 'dir/a/b.png' });
    yes({ name: [{ wildcard: 'a\\*b' }] }, { name: 'a*b' });
    no({ name: [{ wildcard: 'a\\*b' }] }, { name: 'axb' });
    yes({ name: [{ wildcard: 'a\\\\b' }] }, { name: 'a\\b' });
    yes({ name: [{ wildcard: 'a.(b)' }] }, { name: 'a.(b)' });
    no({ name: [{ wildcard: 'a.(b)' }] }, { name: 'ax(b)' });
  });

  it('supports anything-but with values, lists, prefix, suffix, equals-ignore-case and wildcard', () => {
    yes({ detail: { state: [{ 'anything-but': 'initializing' }] } });
    no({ detail: { state: [{ 'anything-but': 'running' }] } });
    yes({ detail: { 'x-limit': [{ 'anything-but': 123 }] } });
    yes({ detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } });
    no({ detail: { state: [{ 'anything-but': ['stopped', 'running'] }] } });
    yes({ detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } });
    no({ detail: { 'x-limit': [{ 'anything-but': [100, 301.8] }] } });
    yes({ detail: { state: [{ 'anything-but': { prefix: 'init' } }] } });
    no({ detail: { state: [{ 'anything-but': { prefix: 'run' } }] } });
    yes({ FileName: [{ 'anything-but': { suffix: '.png' } }] }, { FileName: 'scan.txt' });
    no({ FileName: [{ 'anything-but': { suffix: '.png' } }] }, { FileName: 'scan.png' });
    no({ state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] }, { state: 'INITIALIZING' });
    yes({ state: [{ 'anything-but': { 'equals-ignore-case': ['initializing', 'stopped'] } }] }, { state: 'Running' });
    no({ FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] }, { FilePath: 'src/lib/x.ts' });
    yes({ FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] }, { FilePath: 'src/bin/x.ts' });
    no({ detail: { missing: [{ 'anything-but': 'x' }] } }); // the field must be there
  });

  it('supports numeric comparisons and ranges on numbers only', () => {
    yes({
      detail: {
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ numeric: ['=', 3.018e2] }],
      },
    });
    no({ detail: { 'c-count': [{ numeric: ['>', 0, '<', 5] }] } });
    yes({ detail: { 'c-count': [{ numeric: ['>=', 5] }] } });
    no({ detail: { 'c-count': [{ numeric: ['>', 5] }] } });
    no({ n: [{ numeric: ['>', 0] }] }, { n: '7' });
    yes({ n: [{ numeric: ['>', 0] }] }, { n: [-1, 7] });
  });

  it('supports exists on leaf nodes only', () => {
    yes({ detail: { 'c-count': [{ exists: true }] } });
    no({ detail: { 'c-count': [{ exists: false }] } });
    yes({ detail: { 'e-count': [{ exists: false }] } });
    no({ detail: { 'e-count': [{ exists: true }] } });
    // An object is not a leaf: exists false matches it.
    yes({ detail: { 'c-count': [{ exists: false }] } }, { detail: { 'c-count': { c1: 100 } } });
    yes({ detail: { x: [{ exists: false }] } }, { source: 'no detail at all' });
    yes({ v: [{ exists: true }] }, { v: null });
    yes({ v: [{ exists: false }] }, { v: [] });
  });

  it('supports $or at any level, with AND inside alternatives', () => {
    const event = { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/EC2', detail: { 'detail-type': 'CloudWatch Alarm State Change' } };
    yes({ source: ['aws.cloudwatch'], $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }] }, event);
    no({ source: ['aws.cloudwatch'], $or: [{ metricName: ['CPUUtilization'] }, { namespace: ['AWS/ES'] }] }, event);
    yes(
      {
        $or: [{ metricName: ['CPUUtilization'] }, { namespace: ['AWS/EC2'] }],
        detail: { $or: [{ source: ['aws.cloudwatch'] }, { 'detail-type': ['CloudWatch Alarm State Change'] }] },
      },
      event,
    );
    yes(
      {
        source: ['aws.cloudwatch'],
        $or: [{ metricName: ['CPUUtilization'] }, { metricType: ['MetricType'], namespace: ['AWS/EC2'], $or: [{ metricId: [1234] }, { scope: [{ exists: false }] }] }],
      },
      event,
    );
    no({ $or: [{ metricName: ['x'] }, { metricType: ['MetricType'], namespace: ['AWS/ES'] }] }, event);
  });

  it('supports IPv4 cidr', () => {
    yes({ detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } });
    yes({ detail: { 'source-ip': [{ cidr: '10.0.0.0/8' }] } });
    no({ detail: { 'source-ip': [{ cidr: '10.0.1.0/24' }] } });
  });

  it('matches a Chartflow rule the way the stack writes it', () => {
    const pattern = { source: ['chartflow'], 'detail-type': ['Batch Completed', 'Batch Failed'] };
    yes(pattern, { source: 'chartflow', 'detail-type': 'Batch Failed', detail: { batchId: 'b1' } });
    no(pattern, { source: 'chartflow', 'detail-type': 'Batch Submitted', detail: { batchId: 'b1' } });
  });
});

describe('validateEventPattern', () => {
  it.each([
    [[], 'must be a JSON object'],
    [{}, 'must not be empty'],
    [{ source: 'aws.ec2' }, 'source: match values must be in a JSON array'],
    [{ source: [] }, 'source: a value list must not be empty'],
    [{ source: [['a']] }, 'nested arrays'],
    [{ detail: { n: [{ numeric: ['>', 'x'] }] } }, 'detail.n: "numeric" expects a number'],
    [{ n: [{ numeric: ['<', 5, '>', 1] }] }, 'range must be'],
    [{ n: [{ numeric: ['>', 5, '<', 1] }] }, 'range is empty'],
    [{ n: [{ prefix: 5 }] }, '"prefix" expects a string'],
    [{ n: [{ exists: 'yes' }] }, '"exists" expects true or false'],
    [{ n: [{ wildcard: 'a**b' }] }, 'consecutive'],
    [{ n: [{ wildcard: 'a\\b' }] }, 'may only escape'],
    [{ n: [{ 'anything-but': ['a', 1] }] }, '"anything-but" expects'],
    [{ n: [{ 'anything-but': { contains: 'x' } }] }, '"anything-but" expects'],
    [{ n: [{ regex: 'x' }] }, '"regex" is not a supported operator'],
    [{ n: [{ prefix: 'a', suffix: 'b' }] }, 'exactly one operator'],
    [{ $or: [{ a: ['x'] }] }, 'at least two alternatives'],
    [{ n: [{ cidr: '10.0.0.0/33' }] }, 'IPv4 CIDR'],
  ])('rejects %j', (pattern, message) => {
    expect(() => validateEventPattern(pattern)).toThrow(EventPatternError);
    expect(() => validateEventPattern(pattern)).toThrow(message);
  });

  it('is applied by matchesEventPattern', () => {
    expect(() => matchesEventPattern({ source: 'x' }, { source: 'x' })).toThrow(EventPatternError);
  });
});
