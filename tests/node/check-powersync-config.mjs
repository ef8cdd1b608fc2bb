// Checks notebox's rendered PowerSync config with PowerSync's own sync-rules engine
// (@powersync/service-sync-rules, a test-only dependency) and YAML parser.
// Usage: node check-powersync-config.mjs SPEC_JSON
//   SPEC_JSON: {"service": path, "sync": path, "rows": [{"table", "record"}], "users": [sub…]}
// Prints one JSON object: {errors, service, rows: [{table, id, buckets}], users: {sub: [bucket…]}}.
import { readFileSync } from 'node:fs';
import {
  BaseJwtPayload,
  DEFAULT_HYDRATION_STATE,
  RequestParameters,
  SqlSyncRules,
} from '@powersync/service-sync-rules';
import YAML from 'yaml';

const spec = JSON.parse(process.argv[2]);
const out = {};

if (spec.service) {
  // PowerSync resolves `!env NAME` itself; keep the name to check what was referenced.
  const env = { tag: '!env', resolve: (name) => ({ env: name }) };
  out.service = YAML.parse(readFileSync(spec.service, 'utf8'), { customTags: [env] });
}

const sync = readFileSync(spec.sync, 'utf8');
const options = { defaultSchema: 'public' };
out.errors = SqlSyncRules.validate(sync, options).map((e) => ({ type: e.type, message: e.message }));
if (out.errors.length === 0) {
  const { config } = SqlSyncRules.fromYaml(sync, options);
  const hydrated = config.hydrate({ hydrationState: DEFAULT_HYDRATION_STATE, sqlite: null });
  out.rows = (spec.rows ?? []).map(({ table, record }) => ({
    table,
    id: record.id,
    buckets: hydrated
      .evaluateRow({ sourceTable: { connectionTag: 'default', schema: 'public', name: table }, record })
      .map((r) => r.bucket),
  }));
  out.users = {};
  for (const sub of spec.users ?? []) {
    const { querier, errors } = hydrated.getBucketParameterQuerier({
      globalParameters: new RequestParameters(new BaseJwtPayload({ sub }), {}),
      hasDefaultStreams: true,
      streams: {},
    });
    if (errors.length) throw new Error(JSON.stringify(errors));
    out.users[sub] = querier.staticBuckets.map((b) => b.bucket);
  }
}
console.log(JSON.stringify(out));
