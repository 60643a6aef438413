// A stand-in for a MongoDB server that speaks just enough of the wire protocol for the
// Node.js driver's connection handshake and simple commands: the legacy OP_QUERY
// handshake (answered with OP_REPLY) and OP_MSG commands. `hello`/`isMaster` answer as a
// replica-set primary (or, with `standalone`, as a standalone server); every other
// command succeeds with an empty answer (no documents, an empty cursor; a `find` on a
// collection given in `collections` answers its documents, whatever the filter) and is
// recorded, so a test can see which commands the broker sent (indexes made, migrations run).
//
// What it does NOT cover: storing or returning data, queries, transactions, sessions,
// authentication, TLS, compression, replica set elections or several members, write
// concerns, and every error MongoDB can answer. The full contracts run against a real
// replica set when MONGODB_URI is set (test/contract/mongodb.test.ts).

import { BSON, Long } from 'bson';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;
const MORE_TO_COME = 2;
const CHECKSUM_PRESENT = 1;

export interface Command {
  readonly name: string;
  readonly body: Record<string, unknown>;
}

export interface MongoStandIn {
  readonly port: number;
  /** Every command received so far (handshakes included). */
  readonly commands: Command[];
  close(): Promise<void>;
}

function header(length: number, requestId: number, responseTo: number, opCode: number): Buffer {
  const buffer = Buffer.alloc(16);
  buffer.writeInt32LE(length, 0);
  buffer.writeInt32LE(requestId, 4);
  buffer.writeInt32LE(responseTo, 8);
  buffer.writeInt32LE(opCode, 12);
  return buffer;
}

function opReply(responseTo: number, doc: Record<string, unknown>): Buffer {
  const body = BSON.serialize(doc);
  const fields = Buffer.alloc(20);
  fields.writeInt32LE(0, 0);
  fields.writeBigInt64LE(0n, 4);
  fields.writeInt32LE(0, 12);
  fields.writeInt32LE(1, 16);
  return Buffer.concat([header(16 + 20 + body.length, 0, responseTo, OP_REPLY), fields, body]);
}

function opMsg(responseTo: number, doc: Record<string, unknown>): Buffer {
  const body = BSON.serialize(doc);
  const prefix = Buffer.from([0, 0, 0, 0, 0]);
  return Buffer.concat([header(16 + 5 + body.length, 0, responseTo, OP_MSG), prefix, body]);
}

/** The command document of an OP_QUERY: after flags, the collection name, skip and limit. */
function queryCommand(message: Buffer): Record<string, unknown> {
  const nameEnd = message.indexOf(0, 20);
  const start = nameEnd + 1 + 8;
  return BSON.deserialize(message.subarray(start, start + message.readInt32LE(start)));
}

/** The kind-0 section of an OP_MSG (kind-1 document sequences are skipped). */
function msgCommand(message: Buffer): { body: Record<string, unknown>; flags: number } {
  const flags = message.readUInt32LE(16);
  const end = message.length - (flags & CHECKSUM_PRESENT ? 4 : 0);
  for (let at = 20; at < end;) {
    const kind = message[at]!;
    const size = message.readInt32LE(at + 1);
    if (kind === 0) return { body: BSON.deserialize(message.subarray(at + 1, at + 1 + size)), flags };
    at += 1 + size;
  }
  return { body: {}, flags };
}

type Collections = Readonly<Record<string, ReadonlyArray<Record<string, unknown>>>>;

function answer(port: number, name: string, body: Record<string, unknown>, standalone: boolean, connectionId: number, collections: Collections = {}): Record<string, unknown> {
  const lower = name.toLowerCase();
  if (lower === 'hello' || lower === 'ismaster') {
    const me = `127.0.0.1:${port}`;
    return {
      helloOk: true, ismaster: true, isWritablePrimary: true, maxBsonObjectSize: 16 * 1024 * 1024, maxMessageSizeBytes: 48_000_000,
      maxWriteBatchSize: 100_000, localTime: new Date(), logicalSessionTimeoutMinutes: 30, connectionId, minWireVersion: 0,
      maxWireVersion: 21, readOnly: false, ok: 1,
      ...(standalone ? {} : { setName: 'rs0', setVersion: 1, hosts: [me], primary: me, me }),
    };
  }
  const collection = typeof body[name] === 'string' ? body[name] : '$cmd';
  const firstBatch = lower === 'find' ? collections[String(collection)] ?? [] : [];
  return { ok: 1, n: 0, nModified: 0, value: null, cursor: { id: Long.fromNumber(0), ns: `${String(body.$db)}.${collection}`, firstBatch } };
}

export async function startMongoStandIn(options: { port?: number; standalone?: boolean; collections?: Collections } = {}): Promise<MongoStandIn> {
  const commands: Command[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  let port = options.port ?? 0;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const connectionId = (connections += 1);
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= pending.readInt32LE(0)) {
        const message = pending.subarray(0, pending.readInt32LE(0));
        pending = pending.subarray(message.length);
        const requestId = message.readInt32LE(4);
        const opCode = message.readInt32LE(12);
        if (opCode === OP_QUERY) {
          const body = queryCommand(message);
          const name = Object.keys(body)[0] ?? '';
          commands.push({ name, body });
          socket.write(opReply(requestId, answer(port, name, body, Boolean(options.standalone), connectionId, options.collections)));
        } else if (opCode === OP_MSG) {
          const { body, flags } = msgCommand(message);
          const name = Object.keys(body)[0] ?? '';
          commands.push({ name, body });
          if (!(flags & MORE_TO_COME)) socket.write(opMsg(requestId, answer(port, name, body, Boolean(options.standalone), connectionId, options.collections)));
        } else {
          socket.destroy();
        }
      }
    });
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as { port: number }).port;
  return {
    port,
    commands,
    close: () => new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}
