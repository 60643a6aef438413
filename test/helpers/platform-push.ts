// Pushes as WeChat sends them to a third-party platform: the simulator's own builder and
// sender (src/simulator/platform-pushes.ts), so tests and the simulator speak one format.

export {
  deliver as sendPush, encryptedPush as wechatPush, ticketPush,
} from '../../src/simulator/platform-pushes.ts';
