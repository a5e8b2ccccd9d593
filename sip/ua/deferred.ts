// A promise with its settle functions in hand, for waiters on events that happen later (an
// answer, the first audio, the end of a call).

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: Error): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  // Nobody may be waiting when a call fails; the waiters still see the rejection.
  promise.catch(() => {});
  return { promise, resolve, reject };
}
