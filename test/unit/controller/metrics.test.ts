import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ControllerMetrics, startMetricsServer } from '../../../src/services/controller/metrics.js';

describe('controller metrics', () => {
  it('renders counters, gauges and histograms in the Prometheus text format', () => {
    const m = new ControllerMetrics();
    m.approved.inc({ signer: 'example.com/calico' });
    m.approved.inc({ signer: 'example.com/calico' });
    m.denied.inc({ signer: 'evil"\n\\signer' });
    m.pending.set(3, { signer: 'example.com/calico' });
    m.leader.set(1);
    m.signLatency.observe(0.2, { signer: 'example.com/calico' });
    m.signLatency.observe(7, { signer: 'example.com/calico' });
    const text = m.render();
    assert.match(text, /^# HELP certdesk_controller_approved_total /m);
    assert.match(text, /^# TYPE certdesk_controller_approved_total counter$/m);
    assert.match(text, /^certdesk_controller_approved_total\{signer="example.com\/calico"\} 2$/m);
    assert.match(text, /^certdesk_controller_denied_total\{signer="evil\\"\\n\\\\signer"\} 1$/m);
    assert.match(text, /^certdesk_controller_pending\{signer="example.com\/calico"\} 3$/m);
    assert.match(text, /^certdesk_controller_leader 1$/m);
    assert.match(
      text,
      /^certdesk_controller_sign_latency_seconds_bucket\{signer="example.com\/calico",le="0.25"\} 1$/m,
    );
    assert.match(text, /^certdesk_controller_sign_latency_seconds_bucket\{signer="example.com\/calico",le="10"\} 2$/m);
    assert.match(
      text,
      /^certdesk_controller_sign_latency_seconds_bucket\{signer="example.com\/calico",le="\+Inf"\} 2$/m,
    );
    assert.match(text, /^certdesk_controller_sign_latency_seconds_sum\{signer="example.com\/calico"\} 7.2$/m);
    assert.match(text, /^certdesk_controller_sign_latency_seconds_count\{signer="example.com\/calico"\} 2$/m);
    assert.ok(text.endsWith('\n'));
    for (const line of text.trimEnd().split('\n')) {
      assert.match(line, /^(# (HELP|TYPE) \w+ .+|\w+(\{.*\})? [-+\d.eInfNa]+)$/, line);
    }
  });

  it('serves /metrics and /healthz over HTTP', async () => {
    const m = new ControllerMetrics();
    m.issued.inc({ signer: 'a.io/b' });
    let healthy = true;
    const server = await startMetricsServer(
      m,
      0,
      () => (healthy ? { ok: true } : { ok: false, reason: 'informer down' }),
      '127.0.0.1',
    );
    try {
      const base = `http://127.0.0.1:${server.port}`;
      const metrics = await fetch(`${base}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain; version=0.0.4/);
      assert.match(await metrics.text(), /certdesk_controller_issued_total\{signer="a.io\/b"\} 1/);
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      healthy = false;
      const down = await fetch(`${base}/healthz`);
      assert.equal(down.status, 503);
      assert.equal(await down.text(), 'informer down\n');
      assert.equal((await fetch(`${base}/nope`)).status, 404);
    } finally {
      await server.close();
    }
  });
});
