// Loaded first in each job process (NODE_OPTIONS --import, set by the worker): a spare lowers its
// CPU priority before the framework's modules load. See spare-priority.ts.
import { lowerIfSpare } from './spare-priority.js';

lowerIfSpare();
