-- Statistics for messages that existed before the fold kept their facts: each message's facts from
-- its folded receipts (first carrier and region by provider time; first SENT/DELIVERED/READ, first
-- DELIVERED, first READ, first FAILED), the first message of each transfer (earliest, then RCS,
-- SMS, email, as queued), and a message_stats row per message. From now on the fold keeps them.
UPDATE messages AS m SET carrier = f.carrier, region = f.region, sent_at = f.sent_at, delivered_at = f.delivered_at, read_at = f.read_at, failed_at = f.failed_at
FROM (
  SELECT message_id,
    (array_agg(carrier ORDER BY occurred_at, id) FILTER (WHERE carrier IS NOT NULL))[1] AS carrier,
    (array_agg(region ORDER BY occurred_at, id) FILTER (WHERE region IS NOT NULL))[1] AS region,
    min(occurred_at) FILTER (WHERE event IN ('SENT', 'DELIVERED', 'READ')) AS sent_at,
    min(occurred_at) FILTER (WHERE event = 'DELIVERED') AS delivered_at,
    min(occurred_at) FILTER (WHERE event = 'READ') AS read_at,
    min(occurred_at) FILTER (WHERE event = 'FAILED') AS failed_at
  FROM receipt_events WHERE message_id IS NOT NULL AND NOT pending
  GROUP BY message_id
) AS f
WHERE m.id = f.message_id AND m.sent_at IS NULL AND m.delivered_at IS NULL AND m.read_at IS NULL AND m.failed_at IS NULL AND m.carrier IS NULL;
--> statement-breakpoint
UPDATE messages AS m SET opens_transfer = true
FROM (
  SELECT DISTINCT ON (transfer_id) id FROM messages
  WHERE transfer_id NOT IN (SELECT transfer_id FROM messages WHERE opens_transfer)
  ORDER BY transfer_id, created_at, CASE channel WHEN 'RCS' THEN 0 WHEN 'SMS' THEN 1 ELSE 2 END, id
) AS first
WHERE m.id = first.id;
--> statement-breakpoint
INSERT INTO message_stats (message_id, tenant_id, transfer_created_at, day, channel, provider, carrier, region, opens_transfer, fallback, sent, failed,
  deliver_seconds, read_seconds, download_seconds)
SELECT m.id, m.tenant_id, t.created_at, (t.created_at AT TIME ZONE 'UTC')::date, m.channel, m.provider, m.carrier, m.region, m.opens_transfer,
  m.fallback_of_message_id IS NOT NULL, m.sent_at IS NOT NULL, m.failed_at IS NOT NULL,
  CASE WHEN m.delivered_at IS NOT NULL THEN greatest(0, extract(epoch FROM m.delivered_at - t.created_at))::float8 END,
  CASE WHEN m.read_at IS NOT NULL THEN greatest(0, extract(epoch FROM m.read_at - t.created_at))::float8 END,
  CASE WHEN m.opens_transfer AND t.downloaded_at IS NOT NULL THEN greatest(0, extract(epoch FROM t.downloaded_at - t.created_at))::float8 END
FROM messages AS m JOIN transfers AS t ON t.id = m.transfer_id
ON CONFLICT (message_id) DO NOTHING;
