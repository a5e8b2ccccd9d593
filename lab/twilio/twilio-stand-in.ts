// Twilio in the lab (docs/twilio.md): an account, its number's calls (./twilio-call.ts), and the
// part of Twilio's REST API callbridge uses: updating a live call
// (POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json, form `Twiml` or `Status`), with
// the account's credentials (HTTP Basic) as Twilio requires them, and Twilio's error shapes. The
// product's own client (the `twilio` package) reaches it through TWILIO_API_URL, unchanged.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  randomSid,
  SimulatedTwilioCall,
  type TwilioAccount,
  type TwilioCallOptions,
} from './twilio-call.js';

/** The lab's account: made-up, worthless anywhere else. */
export const LAB_TWILIO_ACCOUNT: TwilioAccount = {
  accountSid: `AC${'1ab'.repeat(10)}ab`,
  authToken: 'callbridge-lab-twilio-auth-token-not-for-production',
};

export interface RestRequest {
  at: number;
  method: string;
  path: string;
  status: number;
  form: Record<string, string>;
}

export interface TwilioStandIn {
  /** http://127.0.0.1:port: TWILIO_API_URL. */
  apiUrl: string;
  account: TwilioAccount;
  readonly requests: RestRequest[];
  /** A call to the account's number, as Twilio would place it to the webhook. */
  newCall(opts: Omit<TwilioCallOptions, 'account'>): SimulatedTwilioCall;
  readonly calls: Map<string, SimulatedTwilioCall>;
  stop(): Promise<void>;
}

const CALL_PATH = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/Calls\/(CA[0-9a-f]{32})\.json$/;

export async function startTwilioStandIn(
  account: TwilioAccount = LAB_TWILIO_ACCOUNT,
): Promise<TwilioStandIn> {
  const calls = new Map<string, SimulatedTwilioCall>();
  const requests: RestRequest[] = [];
  const basic = `Basic ${Buffer.from(`${account.accountSid}:${account.authToken}`).toString('base64')}`;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const form = Object.fromEntries(new URLSearchParams(body));
      const answer = (status: number, json: unknown) => {
        requests.push({
          at: performance.now(),
          method: req.method ?? '',
          path: req.url ?? '',
          status,
          form,
        });
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
      };
      const error = (status: number, code: number, message: string) =>
        answer(status, {
          code,
          message,
          more_info: `https://www.twilio.com/docs/errors/${code}`,
          status,
        });
      if (req.headers.authorization !== basic) return error(401, 20003, 'Authenticate');
      const m = CALL_PATH.exec(req.url ?? '');
      if (req.method !== 'POST' || !m || m[1] !== account.accountSid) {
        return error(404, 20404, 'The requested resource was not found');
      }
      const call = calls.get(m[2]!);
      if (!call) return error(404, 20404, `The requested resource ${req.url} was not found`);
      if (call.ended) return error(400, 21220, 'Call is not in-progress. Cannot redirect.');
      const twiml = form['Twiml'];
      const status = form['Status'];
      if (!twiml && status !== 'completed') return error(400, 21218, 'Invalid ApplicationSid');
      // Twilio acts on the update after answering it.
      setImmediate(() => void call.update({ twiml, status }).catch(() => {}));
      answer(200, {
        sid: call.callSid,
        account_sid: account.accountSid,
        status: status ?? 'in-progress',
        api_version: '2010-04-01',
        uri: req.url,
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    apiUrl,
    account,
    requests,
    calls,
    newCall(opts) {
      const call = new SimulatedTwilioCall({ ...opts, account });
      calls.set(call.callSid, call);
      return call;
    },
    async stop() {
      for (const call of calls.values()) await call.close().catch(() => {});
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export { randomSid };
