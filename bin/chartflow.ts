#!/usr/bin/env node
// The CDK app: `npx cdk synth` / `npx cdk deploy`. Configuration comes from context (cdk.json or -c).
import { buildApp } from '../lib/app.js';

buildApp().app.synth();
