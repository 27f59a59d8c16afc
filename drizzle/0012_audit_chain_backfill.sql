-- The audit log's hash chain (see src/domain/audit.ts and the README's "Proof of delivery").
-- Canonical JSON of a jsonb value: object keys sorted by their UTF-8 bytes, no whitespace,
-- strings, numbers, booleans and null as PostgreSQL renders them in JSON.
CREATE OR REPLACE FUNCTION audit_canonical_json(value jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
BEGIN
  CASE jsonb_typeof(value)
    WHEN 'object' THEN
      RETURN '{' || coalesce((SELECT string_agg(to_jsonb(e.key)::text || ':' || audit_canonical_json(e.value), ',' ORDER BY e.key COLLATE "C")
                              FROM jsonb_each(value) AS e), '') || '}';
    WHEN 'array' THEN
      RETURN '[' || coalesce((SELECT string_agg(audit_canonical_json(e.value), ',' ORDER BY e.position)
                              FROM jsonb_array_elements(value) WITH ORDINALITY AS e(value, position)), '') || ']';
    ELSE
      RETURN value::text;
  END CASE;
END
$$;--> statement-breakpoint
-- What a row's hash covers: every column but its id and its own hashes, the time in UTC to the millisecond.
CREATE OR REPLACE FUNCTION audit_entry_content(tenant_id text, seq bigint, at timestamptz, actor text, action text, transfer_id text, ip text, client text, details jsonb)
RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'tenant_id', tenant_id, 'seq', seq, 'at', to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'actor', actor,
    'action', action, 'transfer_id', transfer_id, 'ip', ip, 'client', client, 'details', details)
$$;--> statement-breakpoint
-- hash = hex SHA-256 of the UTF-8 bytes of prev_hash (64 hex characters) followed by the canonical content.
CREATE OR REPLACE FUNCTION audit_entry_hash(prev_hash text, content jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT encode(sha256(convert_to(prev_hash || audit_canonical_json(content), 'UTF8')), 'hex')
$$;--> statement-breakpoint
-- Rows written before the chain existed are chained per tenant in the order they were written.
DO $$
DECLARE
  entry record;
  tenant text;
  previous text;
  position bigint;
BEGIN
  FOR entry IN SELECT * FROM audit_log ORDER BY tenant_id, at, id LOOP
    IF tenant IS DISTINCT FROM entry.tenant_id THEN
      tenant := entry.tenant_id;
      previous := repeat('0', 64);
      position := 0;
    END IF;
    position := position + 1;
    UPDATE audit_log
       SET seq = position, prev_hash = previous,
           hash = audit_entry_hash(previous, audit_entry_content(entry.tenant_id, position, entry.at, entry.actor, entry.action, entry.transfer_id, entry.ip, entry.client, entry.details))
     WHERE id = entry.id
     RETURNING hash INTO previous;
  END LOOP;
END
$$;
