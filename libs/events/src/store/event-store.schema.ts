import type { Migration } from './migrations.js';

/** The PostgreSQL schema that holds the event store; shared by every service. */
export const EVENT_STORE_SCHEMA = 'eventstore';

/** The role services' writers should belong to: it may read and append, never change history. */
export const EVENT_STORE_WRITER_ROLE = 'campaigns_event_writer';

/** Canonical text of an event, hashed into the stream's chain; verification recomputes it. */
const canonicalFunction = `
CREATE OR REPLACE FUNCTION eventstore.event_canonical(
  p_stream_id text, p_stream_version bigint, p_event_id uuid, p_type text, p_schema_version integer,
  p_recorded_at timestamptz, p_data jsonb, p_metadata jsonb)
RETURNS text LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_array(p_stream_id, p_stream_version, p_event_id, p_type, p_schema_version,
    to_char(p_recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), p_data, p_metadata)::text
$$;

CREATE OR REPLACE FUNCTION eventstore.chain_hash(p_previous text, p_canonical text)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT encode(sha256(coalesce(decode(p_previous, 'hex'), ''::bytea) || convert_to(p_canonical, 'UTF8')), 'hex')
$$;`;

// Error codes raised by append_events, mapped to typed errors by the client:
// CA001 concurrency, CA002 idempotency conflict, CA003 history change refused.
const appendFunction = `
CREATE OR REPLACE FUNCTION eventstore.append_events(
  p_stream_id text, p_expected text, p_event_ids uuid[], p_types text[], p_schema_versions integer[],
  p_data jsonb[], p_metadata jsonb[])
RETURNS TABLE (event_id uuid, stream_version bigint, global_position bigint, transaction_id xid8, recorded_at timestamptz, written boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_count integer := cardinality(p_event_ids);
  v_version bigint;
  v_hash text;
  v_existing integer;
  v_matching integer;
  v_now timestamptz := now();
  v_versions bigint[] := '{}';
  v_hashes text[] := '{}';
BEGIN
  -- Lock the stream row first: every check below then sees the last committed writer.
  SELECT s.version, s.last_hash INTO v_version, v_hash
    FROM eventstore.streams s WHERE s.stream_id = p_stream_id FOR UPDATE;
  IF NOT FOUND THEN
    INSERT INTO eventstore.streams (stream_id, version, last_hash) VALUES (p_stream_id, 0, NULL)
      ON CONFLICT (stream_id) DO NOTHING;
    SELECT s.version, s.last_hash INTO v_version, v_hash
      FROM eventstore.streams s WHERE s.stream_id = p_stream_id FOR UPDATE;
  END IF;

  -- A retry of an append that already committed is a success that writes nothing.
  SELECT count(*),
         count(*) FILTER (WHERE e.stream_id = p_stream_id AND e.type = x.type
                          AND e.schema_version = x.schema_version AND e.data = x.data AND e.metadata = x.metadata)
    INTO v_existing, v_matching
    FROM unnest(p_event_ids, p_types, p_schema_versions, p_data, p_metadata) AS x(id, type, schema_version, data, metadata)
    JOIN eventstore.events e ON e.event_id = x.id;
  IF v_existing > 0 THEN
    IF v_existing = v_count AND v_matching = v_count THEN
      RETURN QUERY SELECT e.event_id, e.stream_version, e.global_position, e.transaction_id, e.recorded_at, false
        FROM eventstore.events e WHERE e.event_id = ANY (p_event_ids) ORDER BY e.stream_version;
      RETURN;
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'CA002', MESSAGE = 'idempotency conflict',
      DETAIL = (SELECT e.event_id::text FROM eventstore.events e WHERE e.event_id = ANY (p_event_ids) LIMIT 1);
  END IF;

  IF (p_expected = 'no_stream' AND v_version <> 0)
     OR (p_expected = 'stream_exists' AND v_version = 0)
     OR (p_expected ~ '^[0-9]+$' AND v_version <> p_expected::bigint) THEN
    RAISE EXCEPTION USING ERRCODE = 'CA001', MESSAGE = 'concurrency', DETAIL = v_version::text;
  END IF;

  FOR i IN 1 .. v_count LOOP
    v_version := v_version + 1;
    v_hash := eventstore.chain_hash(v_hash, eventstore.event_canonical(p_stream_id, v_version, p_event_ids[i],
      p_types[i], p_schema_versions[i], v_now, p_data[i], p_metadata[i]));
    v_versions := v_versions || v_version;
    v_hashes := v_hashes || v_hash;
  END LOOP;

  UPDATE eventstore.streams SET version = v_version, last_hash = v_hash WHERE stream_id = p_stream_id;

  RETURN QUERY
    INSERT INTO eventstore.events AS e (transaction_id, event_id, stream_id, stream_version, type, schema_version,
                                        data, metadata, recorded_at, hash)
    SELECT pg_current_xact_id(), x.id, p_stream_id, x.version, x.type, x.schema_version, x.data, x.metadata, v_now, x.hash
      FROM unnest(p_event_ids, v_versions, p_types, p_schema_versions, p_data, p_metadata, v_hashes)
           WITH ORDINALITY AS x(id, version, type, schema_version, data, metadata, hash, ord)
     ORDER BY x.ord
    RETURNING e.event_id, e.stream_version, e.global_position, e.transaction_id, e.recorded_at, true;
END
$$;`;

export const eventStoreMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'events, streams, blobs and relay checkpoints',
    sql: `
CREATE SCHEMA IF NOT EXISTS eventstore;

CREATE TABLE eventstore.events (
  global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  transaction_id xid8 NOT NULL,
  event_id uuid NOT NULL UNIQUE,
  stream_id text NOT NULL CHECK (length(stream_id) BETWEEN 1 AND 512),
  stream_version bigint NOT NULL CHECK (stream_version > 0),
  type text NOT NULL,
  schema_version integer NOT NULL CHECK (schema_version > 0),
  data jsonb NOT NULL,
  metadata jsonb NOT NULL,
  recorded_at timestamptz NOT NULL,
  hash text NOT NULL,
  UNIQUE (stream_id, stream_version)
);
CREATE INDEX events_global_order ON eventstore.events (transaction_id, global_position);
CREATE INDEX events_correlation ON eventstore.events ((metadata->>'correlation_id'));

CREATE TABLE eventstore.streams (
  stream_id text PRIMARY KEY,
  version bigint NOT NULL,
  last_hash text
);

CREATE TABLE eventstore.blobs (
  sha256 text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  size integer NOT NULL,
  content bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE eventstore.relay_checkpoints (
  relay text PRIMARY KEY,
  transaction_id xid8 NOT NULL,
  global_position bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION eventstore.refuse_history_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'CA003',
    MESSAGE = format('eventstore.%s is append-only: %s is refused', TG_TABLE_NAME, TG_OP);
END
$$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON eventstore.events
  FOR EACH ROW EXECUTE FUNCTION eventstore.refuse_history_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON eventstore.events
  FOR EACH STATEMENT EXECUTE FUNCTION eventstore.refuse_history_change();
CREATE TRIGGER blobs_append_only BEFORE UPDATE OR DELETE ON eventstore.blobs
  FOR EACH ROW EXECUTE FUNCTION eventstore.refuse_history_change();
${canonicalFunction}
${appendFunction}

-- Grants: the writer role may read and append but never rewrite history. The role is
-- cluster-wide, so creating it tolerates a concurrent creator in another database.
DO $$
BEGIN
  CREATE ROLE ${EVENT_STORE_WRITER_ROLE} NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;
REVOKE ALL ON ALL TABLES IN SCHEMA eventstore FROM PUBLIC;
GRANT USAGE ON SCHEMA eventstore TO ${EVENT_STORE_WRITER_ROLE};
GRANT SELECT, INSERT ON eventstore.events, eventstore.blobs TO ${EVENT_STORE_WRITER_ROLE};
GRANT SELECT, INSERT, UPDATE ON eventstore.streams, eventstore.relay_checkpoints TO ${EVENT_STORE_WRITER_ROLE};
`,
  },
];
