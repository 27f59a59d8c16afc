-- Events folded before sequences existed are numbered in the order they were stored, so a
-- subscriber can resume after any of them; each transfer carries on from its last number.
UPDATE "receipt_events" AS e SET "seq" = numbered.seq
FROM (SELECT "id", row_number() OVER (PARTITION BY "transfer_id" ORDER BY "id") AS seq
      FROM "receipt_events" WHERE "transfer_id" IS NOT NULL AND NOT "pending") AS numbered
WHERE e."id" = numbered."id";--> statement-breakpoint
UPDATE "transfers" AS t SET "event_seq" = last.seq
FROM (SELECT "transfer_id", max("seq") AS seq FROM "receipt_events" WHERE "seq" IS NOT NULL GROUP BY "transfer_id") AS last
WHERE t."id" = last."transfer_id";
