import type { Migration } from './migrations.js';

/** The role services' writers should belong to: it may read and append, never change history. */
export const EVENT_STORE_WRITER_ROLE = 'campaigns_event_writer';

/** Canonical text of an event, hashed into the stream's chain; verification recomputes it. */
const canonicalFunction = `
CREATE OR REPLACE FUNCTION eventstore.canonical_time(p_at timestamptz)
RETURNS text LANGUAGE sql STABLE AS $$
  SELECT to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

CREATE OR REPLACE FUNCTION eventstore.event_canonical(
  p_stream_id text, p_stream_version bigint, p_event_id uuid, p_type text, p_schema_version integer,
  p_recorded_at text, p_data jsonb, p_metadata jsonb)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_array(p_stream_id, p_stream_version, p_event_id, p_type, p_schema_version,
    p_recorded_at, p_data, p_metadata)::text
$$;`;

// Error codes raised by append_events, mapped to typed errors by the client:
// CA001 concurrency, CA002 idempotency conflict, CA003 history change refused.
// The hot path is three statements: lock the stream row, insert the events, move the stream on.
// Whether the events were already stored is only examined when something does not add up.
const appendFunction = `
CREATE OR REPLACE FUNCTION eventstore.stored_identically(
  p_stream_id text, p_event_ids uuid[], p_types text[], p_schema_versions integer[], p_data jsonb[], p_metadata jsonb[])
RETURNS text LANGUAGE sql STABLE AS $$
  -- 'all' when every event is stored with this content, 'none' when none is, else 'conflict'.
  SELECT CASE WHEN count(e.event_id) = 0 THEN 'none'
              WHEN count(e.event_id) = cardinality(p_event_ids)
               AND bool_and(e.stream_id = p_stream_id AND e.type = x.type AND e.schema_version = x.schema_version
                            AND e.data = x.data AND e.metadata = x.metadata) THEN 'all'
              ELSE 'conflict' END
    FROM unnest(p_event_ids, p_types, p_schema_versions, p_data, p_metadata) AS x(id, type, schema_version, data, metadata)
    LEFT JOIN eventstore.events e ON e.event_id = x.id
$$;

CREATE OR REPLACE FUNCTION eventstore.append_events(
  p_stream_id text, p_expected text, p_event_ids uuid[], p_types text[], p_schema_versions integer[],
  p_data jsonb[], p_metadata jsonb[])
RETURNS TABLE (event_id uuid, stream_version bigint, global_position bigint, written boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_count integer := cardinality(p_event_ids);
  v_version bigint;
  v_previous bytea;
  v_hash bytea;
  v_now timestamptz := now();
  v_time text := eventstore.canonical_time(now());
  v_hashes text[] := '{}';
  v_inserted integer;
  v_stored text;
BEGIN
  -- One metadata value stands for every event of the append (the usual case: one actor, one cause).
  IF cardinality(p_metadata) = 1 AND v_count > 1 THEN
    p_metadata := array_fill(p_metadata[1], ARRAY[v_count]);
  END IF;
  -- Lock the stream row (creating it for a new stream): later checks see the last committed writer.
  IF p_expected = 'no_stream' THEN
    INSERT INTO eventstore.streams AS s (stream_id, version, last_hash) VALUES (p_stream_id, 0, NULL)
      ON CONFLICT (stream_id) DO NOTHING
      RETURNING s.version, decode(s.last_hash, 'hex') INTO v_version, v_previous;
  END IF;
  IF v_version IS NULL THEN
    SELECT s.version, decode(s.last_hash, 'hex') INTO v_version, v_previous
      FROM eventstore.streams s WHERE s.stream_id = p_stream_id FOR UPDATE;
    IF NOT FOUND THEN
      INSERT INTO eventstore.streams (stream_id, version, last_hash) VALUES (p_stream_id, 0, NULL)
        ON CONFLICT (stream_id) DO NOTHING;
      SELECT s.version, decode(s.last_hash, 'hex') INTO v_version, v_previous
        FROM eventstore.streams s WHERE s.stream_id = p_stream_id FOR UPDATE;
    END IF;
  END IF;

  IF (p_expected = 'no_stream' AND v_version <> 0)
     OR (p_expected = 'stream_exists' AND v_version = 0)
     OR (p_expected ~ '^[0-9]+$' AND v_version <> p_expected::bigint) THEN
    -- A retry of an append that already committed finds the stream moved on: that is a success.
    v_stored := eventstore.stored_identically(p_stream_id, p_event_ids, p_types, p_schema_versions, p_data, p_metadata);
    IF v_stored = 'all' THEN
      RETURN QUERY SELECT e.event_id, e.stream_version, e.global_position, false
        FROM eventstore.events e WHERE e.event_id = ANY (p_event_ids) ORDER BY e.stream_version;
      RETURN;
    ELSIF v_stored = 'conflict' THEN
      RAISE EXCEPTION USING ERRCODE = 'CA002', MESSAGE = 'idempotency conflict',
        DETAIL = (SELECT e.event_id::text FROM eventstore.events e WHERE e.event_id = ANY (p_event_ids) LIMIT 1);
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'CA001', MESSAGE = 'concurrency', DETAIL = v_version::text;
  END IF;

  v_hash := v_previous;
  FOR i IN 1 .. v_count LOOP
    v_hash := sha256(coalesce(v_hash, ''::bytea) || convert_to(eventstore.event_canonical(p_stream_id, v_version + i,
      p_event_ids[i], p_types[i], p_schema_versions[i], v_time, p_data[i], p_metadata[i]), 'UTF8'));
    v_hashes[i] := encode(v_hash, 'hex');
  END LOOP;

  RETURN QUERY
    INSERT INTO eventstore.events AS e (transaction_id, event_id, stream_id, stream_version, type, schema_version,
                                        data, metadata, recorded_at, hash)
    SELECT pg_current_xact_id(), x.id, p_stream_id, v_version + x.ord, x.type, x.schema_version, x.data, x.metadata, v_now, x.hash
      FROM unnest(p_event_ids, p_types, p_schema_versions, p_data, p_metadata, v_hashes)
           WITH ORDINALITY AS x(id, type, schema_version, data, metadata, hash, ord)
     ORDER BY x.ord
    ON CONFLICT (event_id) DO NOTHING
    RETURNING e.event_id, e.stream_version, e.global_position, true;
  GET DIAGNOSTICS v_inserted = ROW_COUNT;

  IF v_inserted < v_count THEN
    -- Some ids were already stored. Only a complete, identical earlier append is a success.
    v_stored := eventstore.stored_identically(p_stream_id, p_event_ids, p_types, p_schema_versions, p_data, p_metadata);
    IF v_inserted = 0 AND v_stored = 'all' THEN
      RETURN QUERY SELECT e.event_id, e.stream_version, e.global_position, false
        FROM eventstore.events e WHERE e.event_id = ANY (p_event_ids) ORDER BY e.stream_version;
      RETURN;
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'CA002', MESSAGE = 'idempotency conflict',
      DETAIL = (SELECT e.event_id::text FROM eventstore.events e
                 WHERE e.event_id = ANY (p_event_ids) AND e.transaction_id <> pg_current_xact_id() LIMIT 1);
  END IF;

  UPDATE eventstore.streams SET version = v_version + v_count, last_hash = encode(v_hash, 'hex') WHERE stream_id = p_stream_id;
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
  {
    version: 2,
    name: 'events by the campaign they name',
    // Every Campaigns event names its campaign in data.campaign; `campaign audit` finds a
    // campaign's history by it, in global order.
    sql: `CREATE INDEX events_by_campaign
  ON eventstore.events ((data->>'campaign'), transaction_id, global_position);`,
  },
];
