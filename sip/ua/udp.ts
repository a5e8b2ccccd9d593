// UDP sockets of the SIP user agent and its RTP: bound on one local address, closed whatever their state.
import type { Socket } from 'node:dgram';

/** Binds `socket` to a free port on `address`; resolves with the port. */
export function bindUdp(socket: Socket, address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, address, () => {
      socket.off('error', reject);
      resolve(socket.address().port);
    });
  });
}

export function closeUdp(socket: Socket): void {
  try {
    socket.close();
  } catch {
    // not bound yet, or already closed
  }
}
