// The agent's adapter to Amazon Connect's queue figures: GetCurrentMetricData for many queues of
// one instance in one request (agents available, contacts in queue, oldest contact age, and
// Connect's estimated wait where the instance offers it), and each queue's hours of operation
// (DescribeQueue for its HoursOfOperationId, then DescribeHoursOfOperation for the weekly hours and
// GetEffectiveHoursOfOperations for the dates ahead with overrides applied). The client's endpoint
// comes from AWS_ENDPOINT_URL_CONNECT (the lab's stand-in). Every request has its own deadline; the
// SDK retries nothing (the poller decides when to ask again, within Connect's rate).
// https://docs.aws.amazon.com/connect/latest/APIReference/API_GetCurrentMetricData.html
// https://docs.aws.amazon.com/connect/latest/APIReference/API_DescribeHoursOfOperation.html
// https://docs.aws.amazon.com/connect/latest/APIReference/API_GetEffectiveHoursOfOperations.html
import {
  ConnectClient,
  DescribeHoursOfOperationCommand,
  DescribeQueueCommand,
  GetCurrentMetricDataCommand,
  GetEffectiveHoursOfOperationsCommand,
  type CurrentMetricName,
} from '@aws-sdk/client-connect';
import { EffectiveHours, HoursOfOperation } from './hours.js';
import { timeBudget } from '../../store/time-budget.js';

/** The figures of one queue, by queue id. */
export interface QueueFigures {
  agentsAvailable: number;
  contactsInQueue: number;
  oldestContactAgeS: number;
  estimatedWaitS?: number;
}

export interface QueueSource {
  /** The figures of `queueIds` (at most 100) of one instance; a queue Connect omits reads as 0s. */
  figures(instanceId: string, queueIds: string[]): Promise<Map<string, QueueFigures>>;
  /** The id of a queue's hours of operation (DescribeQueue). */
  hoursIdOf(instanceId: string, queueId: string): Promise<string>;
  /** Hours of operation by id (DescribeHoursOfOperation). */
  hours(instanceId: string, hoursId: string): Promise<HoursOfOperation>;
  /**
   * The hours with their overrides applied, from `fromDate` to `toDate` (YYYY-MM-DD, inclusive;
   * GetEffectiveHoursOfOperations).
   */
  effectiveHours(
    instanceId: string,
    hoursId: string,
    fromDate: string,
    toDate: string,
  ): Promise<EffectiveHours>;
}

export class QueueSourceError extends Error {
  override name = 'QueueSourceError';
  constructor(
    message: string,
    /** Throttled (429): the poller backs off. */
    readonly throttled: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const METRICS: { Name: CurrentMetricName; Unit: 'COUNT' | 'SECONDS' }[] = [
  { Name: 'AGENTS_AVAILABLE', Unit: 'COUNT' },
  { Name: 'CONTACTS_IN_QUEUE', Unit: 'COUNT' },
  { Name: 'OLDEST_CONTACT_AGE', Unit: 'SECONDS' },
];
const ESTIMATED_WAIT: { Name: CurrentMetricName; Unit: 'SECONDS' } = {
  Name: 'ESTIMATED_WAIT_TIME',
  Unit: 'SECONDS',
};

export interface ConnectQueueSourceOptions {
  client: ConnectClient;
  /** Each request's deadline. */
  timeoutMs?: number;
  /** Ask for ESTIMATED_WAIT_TIME (grouped by queue and channel, as Connect requires). */
  estimatedWait?: boolean;
}

export class ConnectQueueSource implements QueueSource {
  private readonly timeoutMs: number;

  constructor(private readonly opts: ConnectQueueSourceOptions) {
    this.timeoutMs = opts.timeoutMs ?? 1000;
  }

  /** A client for Connect's region; one attempt per request (the poller paces its own). */
  static clientFor(region: string): ConnectClient {
    return new ConnectClient({ region, maxAttempts: 1 });
  }

  async figures(instanceId: string, queueIds: string[]): Promise<Map<string, QueueFigures>> {
    const withEstimate = this.opts.estimatedWait ?? true;
    const { client } = this.opts;
    const command = new GetCurrentMetricDataCommand({
      InstanceId: instanceId,
      Filters: { Queues: queueIds, Channels: ['VOICE'] },
      Groupings: withEstimate ? ['QUEUE', 'CHANNEL'] : ['QUEUE'],
      CurrentMetrics: withEstimate ? [...METRICS, ESTIMATED_WAIT] : METRICS,
    });
    const out = await this.send('GetCurrentMetricData', (abortSignal) =>
      client.send(command, { abortSignal }),
    );
    const byQueue = new Map<string, QueueFigures>(
      queueIds.map((id) => [id, { agentsAvailable: 0, contactsInQueue: 0, oldestContactAgeS: 0 }]),
    );
    for (const result of out.MetricResults ?? []) {
      const id = result.Dimensions?.Queue?.Id;
      const figures = id === undefined ? undefined : byQueue.get(id);
      if (!figures) continue;
      for (const c of result.Collections ?? []) {
        const v = c.Value;
        if (v === undefined || !Number.isFinite(v) || v < 0) continue;
        if (c.Metric?.Name === 'AGENTS_AVAILABLE') figures.agentsAvailable = Math.round(v);
        if (c.Metric?.Name === 'CONTACTS_IN_QUEUE') figures.contactsInQueue = Math.round(v);
        // Grouped, Connect gives OLDEST_CONTACT_AGE in seconds (ungrouped it would be ms).
        if (c.Metric?.Name === 'OLDEST_CONTACT_AGE') figures.oldestContactAgeS = v;
        if (c.Metric?.Name === 'ESTIMATED_WAIT_TIME') figures.estimatedWaitS = v;
      }
    }
    return byQueue;
  }

  async hoursIdOf(instanceId: string, queueId: string): Promise<string> {
    const { client } = this.opts;
    const q = await this.send('DescribeQueue', (abortSignal) =>
      client.send(new DescribeQueueCommand({ InstanceId: instanceId, QueueId: queueId }), {
        abortSignal,
      }),
    );
    const hoursId = q.Queue?.HoursOfOperationId;
    if (!hoursId) throw new QueueSourceError('queue has no hours of operation', false);
    return hoursId;
  }

  async hours(instanceId: string, hoursId: string): Promise<HoursOfOperation> {
    const { client } = this.opts;
    const h = await this.send('DescribeHoursOfOperation', (abortSignal) =>
      client.send(
        new DescribeHoursOfOperationCommand({
          InstanceId: instanceId,
          HoursOfOperationId: hoursId,
        }),
        { abortSignal },
      ),
    );
    const parsed = HoursOfOperation.safeParse(h.HoursOfOperation);
    if (!parsed.success) throw new QueueSourceError('hours of operation unreadable', false);
    return parsed.data;
  }

  async effectiveHours(
    instanceId: string,
    hoursId: string,
    fromDate: string,
    toDate: string,
  ): Promise<EffectiveHours> {
    const { client } = this.opts;
    const out = await this.send('GetEffectiveHoursOfOperations', (abortSignal) =>
      client.send(
        new GetEffectiveHoursOfOperationsCommand({
          InstanceId: instanceId,
          HoursOfOperationId: hoursId,
          FromDate: fromDate,
          ToDate: toDate,
        }),
        { abortSignal },
      ),
    );
    // Only the open times are kept: EffectiveOverrideHoursList (the overrides' names and status)
    // is admin free text the agent never says, and its effect is already in the open times.
    const days: Record<string, { Start: unknown; End: unknown }[]> = {};
    for (const d of out.EffectiveHoursOfOperationList ?? []) {
      if (d.Date === undefined) continue;
      days[d.Date] = [
        ...(days[d.Date] ?? []),
        ...(d.OperationalHours ?? []).map((h) => ({ Start: h.Start, End: h.End })),
      ];
    }
    const parsed = EffectiveHours.safeParse({ TimeZone: out.TimeZone, fromDate, toDate, days });
    if (!parsed.success) throw new QueueSourceError('effective hours unreadable', false);
    return parsed.data;
  }

  /** Runs one request within its deadline; its failure becomes a QueueSourceError. */
  private async send<T>(operation: string, run: (abortSignal: AbortSignal) => Promise<T>) {
    try {
      return await run(timeBudget(this.timeoutMs).signal);
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      const throttled =
        e.$metadata?.httpStatusCode === 429 ||
        e.name === 'ThrottlingException' ||
        e.name === 'TooManyRequestsException';
      throw new QueueSourceError(`connect ${operation}: ${e.name ?? 'Error'}`, throttled, {
        cause: err,
      });
    }
  }
}
