// Benchmark of the lab's S3 and of writing call recordings: prints figures, asserts nothing.
//   npm run bench:recordings [-- --starts 5 --writes 5]
// - the local S3 (moto's server, lab/stack/local-s3.ts): time from spawn to healthy, and to the
//   first bucket made (moto loads its S3 on the first request), over `starts` starts;
// - a call's recording after the call: laying a call of 1, 5 and 15 minutes on the timeline
//   (store/recordings.ts) and building its stereo WAV, then PutObject through the SDK to the local
//   S3, `writes` times each.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startLocalS3 } from '../../lab/stack/local-s3.js';
import { summary } from '../../lab/stats.js';
import { TimelineRecorder } from '../../store/recordings.js';
import { parseCli } from '../lib/cli.js';

const values = parseCli('npm run bench:recordings --', {
  starts: { type: 'string', default: '5' },
  writes: { type: 'string', default: '5' },
});
const STARTS = Number(values.starts);
const WRITES = Number(values.writes);

const healthy: number[] = [];
const ready: number[] = [];
for (let i = 0; i < STARTS; i++) {
  let healthyMs = 0;
  const t0 = performance.now();
  const s3 = await startLocalS3({
    log: (line) => {
      const m = /healthy in (\d+) ms/.exec(line);
      if (m) healthyMs = Number(m[1]);
    },
  });
  ready.push(performance.now() - t0);
  healthy.push(healthyMs);
  await s3.stop();
}
console.log(`local S3 start, healthy:        ${summary(healthy)}`);
console.log(`local S3 start, first bucket:   ${summary(ready)}`);

const s3 = await startLocalS3();
try {
  for (const minutes of [1, 5, 15]) {
    const build: number[] = [];
    const put: number[] = [];
    let bytes = 0;
    for (let i = 0; i < WRITES; i++) {
      // A call as the gateway sees it: 20 ms frames both ways, the caller and the agent in turn.
      const t0 = performance.now();
      const r = new TimelineRecorder(0);
      const frame = new Int16Array(160).fill(1200);
      for (let at = 0; at < minutes * 60_000; at += 20) {
        r.write(Math.floor(at / 5000) % 2 ? 'heard' : 'caller', at, frame);
      }
      const { wav } = r.finish(minutes * 60_000);
      const t1 = performance.now();
      await s3.client.send(
        new PutObjectCommand({ Bucket: s3.bucket, Key: `bench/${minutes}-${i}.wav`, Body: wav }),
      );
      build.push(t1 - t0);
      put.push(performance.now() - t1);
      bytes = wav.length;
    }
    const mb = (bytes / 1e6).toFixed(1);
    console.log(`${minutes} min call (${mb} MB): timeline+WAV ${summary(build)}`);
    console.log(`${minutes} min call (${mb} MB): PutObject    ${summary(put)}`);
  }
} finally {
  await s3.stop();
}
