// Checks notebox's rendered PowerSync config with PowerSync's own sync-rules engine
// (@powersync/service-sync-rules, a test-only dependency) and YAML parser.
// Usage: node check-powersync-config.mjs SPEC_JSON
//   SPEC_JSON: {"service": path, "sync": path, "rows": [{"table", "record"}], "users": [sub…]}
// Prints one JSON object: {errors, service, rows: [{table, id, buckets}], users: {sub: [bucket…]}}.
// Each row is also evaluated as a parameter row (e.g. notebook_members, which sync streams'
// subqueries look up), so a user's buckets include those their memberships give them, as
// the service computes them on connect.
import { readFileSync } from 'node:fs';
import {
  BaseJwtPayload,
  DEFAULT_HYDRATION_STATE,
  RequestParameters,
  SqlSyncRules,
} from '@powersync/service-sync-rules';
import YAML from 'yaml';

// The engine uses Object.groupBy (Node 21+); this machine's Node is 20.
Object.groupBy ??= (items, key) => {
  const out = Object.create(null);
  let index = 0;
  for (const item of items) (out[key(item, index++)] ??= []).push(item);
  return out;
};

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
  const source = (name) => ({ connectionTag: 'default', schema: 'public', name });
  out.rows = (spec.rows ?? []).map(({ table, record }) => ({
    table,
    id: record.id,
    buckets: hydrated.evaluateRow({ sourceTable: source(table), record }).map((r) => r.bucket),
  }));
  // What parameter lookups (stream subqueries) find: every row's parameter results.
  const lookups = (spec.rows ?? []).flatMap(({ table, record }) =>
    hydrated.evaluateParameterRow(source(table), record),
  );
  const parameterSource = {
    getParameterSets: async (wanted) =>
      wanted.map((lookup) => ({
        lookup,
        rows: lookups
          .filter((l) => JSON.stringify(l.lookup.values) === JSON.stringify(lookup.values))
          .flatMap((l) => l.bucketParameters),
      })),
  };
  out.users = {};
  for (const sub of spec.users ?? []) {
    const { querier, errors } = hydrated.getBucketParameterQuerier({
      globalParameters: new RequestParameters(new BaseJwtPayload({ sub }), {}),
      hasDefaultStreams: true,
      streams: {},
    });
    if (errors.length) throw new Error(JSON.stringify(errors));
    const dynamic = querier.hasDynamicBuckets ? await querier.queryDynamicBucketDescriptions(parameterSource) : [];
    out.users[sub] = [...querier.staticBuckets, ...dynamic].map((b) => b.bucket).sort();
  }
}
console.log(JSON.stringify(out));
