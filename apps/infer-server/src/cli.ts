#!/usr/bin/env node
// The infer-server bin.
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
