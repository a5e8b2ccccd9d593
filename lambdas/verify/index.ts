// Lambda entry point of the verification API, served by a function URL (docs/verification.md).
// Module initialisation (cold start) reads and validates the configuration once.
import { createVerifyService } from './service.js';

export const handler = createVerifyService(process.env).handler;
