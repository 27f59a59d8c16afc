import { Field, ObjectType } from "type-graphql";
import type { TransferUpdate as TransferUpdateRecord } from "../domain/model.js";
import { encodeTransferCursor } from "../domain/transfer-cursor.js";
import { ReceiptEvent } from "./receipt-event.type.js";
import { Transfer } from "./transfer.type.js";

@ObjectType({ description: "A transfer as it now stands, and the event that moved it (null for the current state)" })
export class TransferUpdate {
  @Field(() => Transfer)
  transfer!: Transfer;

  @Field(() => ReceiptEvent, { nullable: true })
  event!: ReceiptEvent | null;

  @Field(() => String, {
    nullable: true,
    description: "Where this update stands among the transfer's updates: pass it as transferUpdated's `after` to resume after it (null for the current state)",
  })
  cursor!: string | null;

  static from(update: TransferUpdateRecord): TransferUpdate {
    const seq = update.event?.seq;
    return Object.assign(new TransferUpdate(), {
      transfer: Transfer.from(update.transfer),
      event: update.event ? ReceiptEvent.from(update.event) : null,
      cursor: seq ? encodeTransferCursor(update.transfer.id, seq) : null,
    });
  }
}
