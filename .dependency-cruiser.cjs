// The import layering of src/ (README, "How it is built"): every import points down this
// list. A module may import from its own folder and from any layer below its own, never
// from a layer above nor from another folder of its own layer. `npm test` runs this check.
//
//   0 entry         src/main.ts, src/cli/
//   1 composition   src/app.ts
//   2 provider      src/provider.ts (oidc-provider and the person's rights, for the broker and the CLI)
//   3 assembly      src/dev-mode.ts, src/stores.ts
//   4 features      src/login/, src/admin/, src/account-page/, src/console/, src/demo/, src/simulator/
//   5 ways in       src/upstreams/ (one folder per way in, behind upstreams/upstream.ts), src/diagnostics/ (the doctor's checks)
//   6 platforms     src/platforms/ (third-party platform mode, Official Accounts' tokens)
//   7 rights        src/privacy/
//   8 protocol      src/oidc/, src/ops/
//   9 domain        src/accounts/
//  10 storage       src/storage/
//  11 logging       src/log.ts
//  12 settings      src/config/
//  13 pages         src/pages/
//  14 foundation    src/wechat/, src/http/

const LAYERS = [
  ['src/main\\.ts', 'src/cli/'],
  ['src/app\\.ts'],
  ['src/provider\\.ts'],
  ['src/dev-mode\\.ts', 'src/stores\\.ts'],
  ['src/login/', 'src/admin/', 'src/account-page/', 'src/console/', 'src/demo/', 'src/simulator/'],
  ['src/upstreams/', 'src/diagnostics/'],
  ['src/platforms/'],
  ['src/privacy/'],
  ['src/oidc/', 'src/ops/'],
  ['src/accounts/'],
  ['src/storage/'],
  ['src/log\\.ts'],
  ['src/config/'],
  ['src/pages/'],
  ['src/wechat/', 'src/http/'],
];

const anyOf = (paths) => `^(${paths.join('|')})`;

/** Layer i may not import anything in layers 0..i-1, nor a sibling of its own layer. */
const layering = LAYERS.flatMap((layer, index) => layer.map((from) => ({
  name: `layer-${index}-imports-up`,
  comment: `${from} (layer ${index}) imports from a layer above it or from a sibling of its layer`,
  severity: 'error',
  from: { path: `^${from}` },
  to: { path: anyOf([...LAYERS.slice(0, index).flat(), ...layer.filter((sibling) => sibling !== from)]) },
})));

module.exports = {
  forbidden: [
    ...layering,
    {
      name: 'oidc-knows-no-upstream',
      comment: 'oidc/ is the certified provider\'s configuration: it knows nothing of WeChat',
      severity: 'error',
      from: { path: '^src/oidc/' },
      to: { path: '^src/(wechat|simulator|login|upstreams|platforms)/' },
    },
    {
      name: 'upstreams-know-no-oidc',
      comment: 'a way in turns WeChat into identity facts; login/ is where it meets OIDC',
      severity: 'error',
      from: { path: '^src/(upstreams|platforms)/' },
      to: { path: '^src/(oidc|login)/' },
    },
    {
      name: 'ways-in-stand-apart',
      comment: 'a way in uses the interface (upstreams/upstream.ts) and the layers below, never another way in',
      severity: 'error',
      from: { path: '^src/upstreams/([^/]+)/' },
      to: { path: '^src/upstreams/[^/]+/', pathNot: '^src/upstreams/$1/' },
    },
    {
      name: 'simulator-stands-alone',
      comment: 'the simulator plays WeChat: it shares nothing with the broker but the HTTP body reader and the message crypto (which is tested against WeChat\'s own published sample, not against the simulator)',
      severity: 'error',
      from: { path: '^src/simulator/' },
      to: { path: '^src/', pathNot: '^src/(simulator/|http/|wechat/message-crypto\\.ts$)' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    // TypeScript 7 has no compiler API yet: swc parses the sources.
    parser: 'swc',
    exclude: { path: '^(node_modules|test)/' },
  },
};
