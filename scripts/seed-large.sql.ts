import { REBUILD_TENANT_MESSAGE_STATS } from "../src/domain/message-stats.js";

/*
 * The statements of `seed:large` ($1: tenant, $2: transfers). Every 20 consecutive transfers take
 * each of 20 outcome slots once, so the events average exactly four per transfer:
 *   slots 0-3   read and downloaded  QUEUED SENT DELIVERED READ DOWNLOADED   5
 *   slots 4-10  read                 QUEUED SENT DELIVERED READ              4
 *   slots 11-15 delivered            QUEUED SENT DELIVERED                   3
 *   slots 16-17 failed, fell back    QUEUED SENT FAILED + QUEUED SENT DELIVERED of the fallback  6
 *   slot 18     failed               QUEUED SENT FAILED                      3
 *   slot 19     sent                 QUEUED SENT                             2
 * Carrier and region come from the provider's receipts (SENT, DELIVERED, READ, FAILED) of phone
 * channels, as the webhook doors store them; each carrier is in one region. Email has neither.
 */
export const SEED_TENANT = "large";

const CARRIERS = [
  ["310260", "NA"], ["310410", "NA"], ["311480", "NA"], ["302720", "NA"],
  ["20801", "EU"], ["23415", "EU"], ["26201", "EU"], ["22210", "EU"],
  ["72405", "LATAM"], ["334020", "LATAM"], ["722070", "LATAM"], ["73001", "LATAM"],
  ["44010", "APAC"], ["45005", "APAC"], ["50501", "APAC"], ["52501", "APAC"],
  ["65501", "MEA"], ["62130", "MEA"], ["42402", "MEA"], ["60202", "MEA"],
] as const;

const carrierArray = `ARRAY[${CARRIERS.map(([carrier]) => `'${carrier}'`).join(",")}]`;
const regionArray = `ARRAY[${CARRIERS.map(([, region]) => `'${region}'`).join(",")}]`;
const seconds = (expression: string) => `(${expression}) * interval '1 second'`;

export const SEED_LARGE_SQL: Array<[string, string]> = [
  ["old statistics removed", `DELETE FROM message_stats WHERE tenant_id = $1`],
  ["old events removed", `DELETE FROM receipt_events WHERE tenant_id = $1`],
  ["old messages removed", `DELETE FROM messages WHERE tenant_id = $1`],
  ["old transfers removed", `DELETE FROM transfers WHERE tenant_id = $1`],
  [
    "plan",
    `CREATE TEMP TABLE seed_plan ON COMMIT PRESERVE ROWS AS
     WITH drawn AS (
       SELECT i, (i * 7) % 20 AS slot, random() AS u0, random() AS u1, random() AS u2, random() AS u3, random() AS u4, (random() * 20)::int % 20 + 1 AS c
       FROM generate_series(0, $2::int - 1) AS i WHERE $1::text IS NOT NULL),
     shaped AS (
       SELECT *, date_trunc('day', now()) - interval '90 days' + (i::float8 / $2::int) * interval '90 days' + ${seconds("u0 * 60")} AS created_at,
         CASE WHEN u0 < 0.5 THEN 'RCS' WHEN u0 < 0.85 THEN 'SMS' ELSE 'EMAIL' END AS channel
       FROM drawn)
     SELECT i, slot, channel, created_at, 'tr_large_' || i AS transfer_id, 'msg_large_' || i AS message_id,
       CASE channel WHEN 'RCS' THEN (CASE WHEN u4 < 0.5 THEN 'vonage' ELSE 'sinch' END) WHEN 'SMS' THEN (CASE WHEN u4 < 0.5 THEN 'twilio' ELSE 'infobip' END) ELSE 'ses' END AS provider,
       CASE WHEN channel <> 'EMAIL' THEN (${carrierArray})[c] END AS carrier,
       CASE WHEN channel <> 'EMAIL' THEN (${regionArray})[c] END AS region,
       CASE channel WHEN 'RCS' THEN 'SMS' WHEN 'SMS' THEN 'EMAIL' ELSE 'SMS' END AS fallback_channel,
       (${carrierArray})[c] AS fallback_carrier, (${regionArray})[c] AS fallback_region,
       created_at + ${seconds("0.2 + 1.8 * u1")} AS sent_at,
       CASE WHEN slot < 16 THEN created_at + ${seconds("2.2 + 1.8 * u1 + 58 * u2 ^ 3")} END AS delivered_at,
       CASE WHEN slot < 11 THEN created_at + ${seconds("62 + 1.8 * u1 + 3600 * u3 ^ 2")} END AS read_at,
       CASE WHEN slot < 4 THEN created_at + ${seconds("3700 + 7200 * u4 ^ 2")} END AS downloaded_at,
       CASE WHEN slot BETWEEN 16 AND 18 THEN created_at + ${seconds("7 + 55 * u2")} END AS failed_at,
       CASE WHEN slot BETWEEN 16 AND 17 THEN created_at + ${seconds("70 + 30 * u3")} END AS fallback_delivered_at
     FROM shaped`,
  ],
  [
    "transfers",
    `INSERT INTO transfers (id, tenant_id, sender_name, recipient_phone, recipient_email, file_name, file_size_bytes, expires_at, status, downloaded_at, event_seq, created_by, created_at, updated_at)
     SELECT transfer_id, $1, 'Sender ' || lpad((i % 50)::text, 2, '0'), '+1555' || lpad(i::text, 7, '0'), 'r' || i || '@example.com', 'file-' || i || '.pdf', 1000 + i,
       created_at + interval '30 days',
       CASE WHEN slot < 4 THEN 'DOWNLOADED' WHEN slot < 11 THEN 'READ' WHEN slot < 16 THEN 'DELIVERED' WHEN slot < 18 THEN 'DELIVERED' WHEN slot = 18 THEN 'FAILED' ELSE 'SENT' END,
       downloaded_at, CASE WHEN slot < 4 THEN 5 WHEN slot < 11 THEN 4 WHEN slot < 16 THEN 3 WHEN slot < 18 THEN 6 WHEN slot = 18 THEN 3 ELSE 2 END,
       'seed', created_at, created_at
     FROM seed_plan`,
  ],
  [
    "messages",
    `INSERT INTO messages (id, tenant_id, transfer_id, channel, provider, provider_message_id, client_message_id, status, attempts, dispatch_state,
       opens_transfer, fallback_of_message_id, fallback_reason, carrier, region, sent_at, delivered_at, read_at, failed_at, created_at, updated_at)
     SELECT message_id, $1, transfer_id, channel, provider, 'prov_' || message_id, message_id,
       CASE WHEN slot < 11 THEN 'READ' WHEN slot < 16 THEN 'DELIVERED' WHEN slot < 19 THEN 'FAILED' ELSE 'SENT' END, 1, 'done',
       true, NULL, NULL, carrier, region, sent_at, delivered_at, read_at, failed_at, created_at, created_at
     FROM seed_plan
     UNION ALL
     SELECT message_id || '_fb', $1, transfer_id, fallback_channel, CASE fallback_channel WHEN 'SMS' THEN 'twilio' ELSE 'ses' END, 'prov_' || message_id || '_fb', message_id || '_fb',
       'DELIVERED', 1, 'done', false, message_id, 'FAILED',
       CASE WHEN fallback_channel <> 'EMAIL' THEN fallback_carrier END, CASE WHEN fallback_channel <> 'EMAIL' THEN fallback_region END,
       failed_at + interval '1 second', fallback_delivered_at, NULL, NULL, failed_at, failed_at
     FROM seed_plan WHERE fallback_delivered_at IS NOT NULL`,
  ],
  [
    "receipt events",
    `INSERT INTO receipt_events (tenant_id, transfer_id, message_id, provider_message_id, channel, event, occurred_at, received_at, provider, source,
       carrier, region, metadata, raw, dedupe_key, seq)
     SELECT $1, p.transfer_id, e.message_id, CASE WHEN e.message_id IS NOT NULL THEN 'prov_' || e.message_id END, e.channel, e.event, e.at,
       e.at + interval '150 milliseconds', e.provider, e.source, e.carrier, e.region, '{}'::jsonb, '{"seeded":true}'::jsonb,
       'seed:' || p.transfer_id || ':' || e.seq, e.seq
     FROM seed_plan AS p
     CROSS JOIN LATERAL (VALUES
       (1, 'QUEUED', p.created_at, p.message_id, p.channel, p.provider, 'ackline', NULL, NULL),
       (2, 'SENT', p.sent_at, p.message_id, p.channel, p.provider, p.provider, p.carrier, p.region),
       (3, 'DELIVERED', p.delivered_at, p.message_id, p.channel, p.provider, p.provider, p.carrier, p.region),
       (4, 'READ', p.read_at, p.message_id, p.channel, p.provider, p.provider, p.carrier, p.region),
       (5, 'DOWNLOADED', p.downloaded_at, NULL, NULL, 'ackline', 'gateway', NULL, NULL),
       (3, 'FAILED', p.failed_at, p.message_id, p.channel, p.provider, p.provider, p.carrier, p.region),
       (4, 'QUEUED', p.failed_at, p.message_id || '_fb', p.fallback_channel, NULL, 'ackline', NULL, NULL),
       (5, 'SENT', p.failed_at + interval '1 second', p.message_id || '_fb', p.fallback_channel, NULL, NULL, NULL, NULL),
       (6, 'DELIVERED', p.fallback_delivered_at, p.message_id || '_fb', p.fallback_channel, NULL, NULL, NULL, NULL)
     ) AS e0(seq, event, at, message_id, channel, provider, source, carrier, region)
     CROSS JOIN LATERAL (SELECT e0.seq, e0.event, e0.at, e0.message_id, e0.channel,
       coalesce(e0.provider, CASE p.fallback_channel WHEN 'SMS' THEN 'twilio' ELSE 'ses' END) AS provider,
       coalesce(e0.source, CASE p.fallback_channel WHEN 'SMS' THEN 'twilio' ELSE 'ses' END) AS source,
       CASE WHEN e0.message_id = p.message_id || '_fb' AND e0.event <> 'QUEUED' AND p.fallback_channel <> 'EMAIL' THEN p.fallback_carrier ELSE e0.carrier END AS carrier,
       CASE WHEN e0.message_id = p.message_id || '_fb' AND e0.event <> 'QUEUED' AND p.fallback_channel <> 'EMAIL' THEN p.fallback_region ELSE e0.region END AS region) AS e
     WHERE e.at IS NOT NULL AND (e.seq < 4 OR e.event <> 'QUEUED' OR p.fallback_delivered_at IS NOT NULL)
       AND NOT (e.event = 'SENT' AND e.seq = 5 AND p.fallback_delivered_at IS NULL)`,
  ],
  ["statistics rows", REBUILD_TENANT_MESSAGE_STATS],
  ["plan dropped", `DROP TABLE seed_plan`],
  ["analyzed", `VACUUM ANALYZE transfers, messages, receipt_events, message_stats`],
];
