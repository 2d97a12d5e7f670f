// `--set SCENARIO.KEY=VALUE`: parsing into scenarioOptions, numbers parsed, one-line errors for what is wrong.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseScenarioSettings, ScenarioOptionError } from '../../../src/services/sandbox/scenarios/options.js';

describe('parseScenarioSettings', () => {
  it('parses numbers and strings per scenario; later settings win', () => {
    assert.deepEqual(
      parseScenarioSettings(
        [
          'calico-rollout.nodes=4',
          'calico-rollout.signerName=tigera.io/calico=x',
          'calico-rollout.nodes=10',
          'scale.csrs=0',
          'calico-rollout.keyAlgorithm=RSAWithSize2048',
        ],
        ['calico-rollout', 'scale'],
      ),
      {
        'calico-rollout': { nodes: 10, signerName: 'tigera.io/calico=x', keyAlgorithm: 'RSAWithSize2048' },
        scale: { csrs: 0 },
      },
    );
    assert.deepEqual(parseScenarioSettings([], []), {});
  });

  it('refuses what is wrong with one line that says what to give', () => {
    const cases: [string, RegExp][] = [
      ['nodes=3', /give SCENARIO\.KEY=VALUE/],
      ['calico-rollout.nodes', /give SCENARIO\.KEY=VALUE/],
      ['calico.nodes=3', /no scenario "calico"; the scenarios are calico-rollout, /],
      ['calico-rollout.node=3', /has no option "node"; its options are calico-rollout\.nodes, /],
      ['calico-rollout.nodes=abc', /calico-rollout\.nodes must be a whole number from 1 to 500/],
      ['calico-rollout.nodes=0', /from 1 to 500/],
      ['calico-rollout.nodes=2.5', /whole number/],
      ['calico-rollout.nodes=', /whole number/],
      ['calico-rollout.keyAlgorithm=DSA', /must be one of RSAWithSize2048, /],
      ['calico-rollout.signerName=', /needs a value/],
      ['istio-signers.ttlSeconds=599', /must be a whole number 600 or more/],
      ['onboarding.keyOut=/tmp/k', /the scenario onboarding is not run; add --scenario onboarding/],
    ];
    for (const [setting, re] of cases) {
      assert.throws(
        () => parseScenarioSettings([setting], ['calico-rollout', 'istio-signers']),
        (err: unknown) => err instanceof ScenarioOptionError && re.test(err.message) && !err.message.includes('\n'),
        setting,
      );
    }
  });
});
