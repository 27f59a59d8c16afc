import { GraphQLSafeInt } from "graphql-scalars";
import { Field, ID, Int, ObjectType } from "type-graphql";
import type { TransferStatus, TransferView } from "../domain/model.js";
import { TransferStatusEnum } from "./enums.js";
import { Message } from "./message.type.js";
import { TransferSecurity } from "./transfer-security.type.js";

@ObjectType()
export class Recipient {
  @Field(() => String, { nullable: true })
  phone!: string | null;

  @Field(() => String, { nullable: true })
  email!: string | null;
}

@ObjectType({ description: "A file transfer and the notifications that announce it" })
export class Transfer {
  @Field(() => ID)
  id!: string;

  @Field(() => TransferStatusEnum)
  status!: TransferStatus;

  @Field(() => Recipient)
  recipient!: Recipient;

  @Field(() => String)
  senderName!: string;

  @Field(() => String)
  fileName!: string;

  @Field(() => GraphQLSafeInt)
  fileSizeBytes!: number;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date)
  updatedAt!: Date;

  @Field(() => Date)
  expiresAt!: Date;

  @Field(() => Date, { nullable: true, description: "When it was revoked (revokeTransfer)" })
  revokedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: "When the recipient first downloaded the file" })
  downloadedAt!: Date | null;

  @Field(() => String, { nullable: true, description: "Hex SHA-256 of the file, as declared at creation" })
  fileSha256!: string | null;

  @Field(() => TransferSecurity)
  security!: TransferSecurity;

  @Field(() => Int, { description: "Downloads recorded: through the links (counted against security.maxDownloads) or with recordDownload" })
  downloadCount!: number;

  @Field(() => String, { nullable: true, description: "The STORAGE_REGION of the deployment that created it (null: none declared)" })
  storageRegion!: string | null;

  @Field(() => String, {
    nullable: true,
    description: "The signed receipt of the first download: a compact JWS (EdDSA) verifiable with /.well-known/jwks.json alone, or with verifyReceipt",
  })
  downloadReceipt!: string | null;

  @Field(() => [Message])
  messages!: Message[];

  static from(view: TransferView): Transfer {
    return Object.assign(new Transfer(), {
      ...view,
      recipient: { phone: view.recipientPhone, email: view.recipientEmail },
      security: TransferSecurity.from(view.securityPolicy),
    });
  }
}
