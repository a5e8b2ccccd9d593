// The caller's keypad: the digits livekit-sip reads from the call's RFC 4733 telephone events and
// publishes in the room (rtc-node's DtmfReceived, SIP DTMF data packets), from the caller's SIP
// participant only. A part of the call that waits for digits (the callback number) captures them
// while it does; a digit no one captured goes to the call's default: 0 transfers the caller to the
// use case's default queue at once, without waiting for the model.
import { RoomEvent, type RemoteParticipant, type Room } from '@livekit/rtc-node';

/** A listener that returns true took the digit: no one else gets it. */
export type DigitListener = (digit: string) => boolean;

export class CallKeypad {
  private readonly captures: DigitListener[] = [];
  private fallback: ((digit: string) => void) | undefined;

  /** A digit the caller pressed: to the latest capture that takes it, else to the default. */
  press(digit: string): void {
    for (let i = this.captures.length - 1; i >= 0; i--) if (this.captures[i]!(digit)) return;
    this.fallback?.(digit);
  }

  /** Offers every digit to `listener` first until the returned function is called. */
  capture(listener: DigitListener): () => void {
    this.captures.push(listener);
    return () => {
      const i = this.captures.indexOf(listener);
      if (i >= 0) this.captures.splice(i, 1);
    };
  }

  /** What a digit no capture took does. */
  otherwise(fn: (digit: string) => void): void {
    this.fallback = fn;
  }
}

/** A DTMF digit as livekit-sip publishes it: 0-9, *, #, A-D. */
const DIGIT = /^[0-9*#A-D]$/;

/** Feeds the caller's keypad digits in the room to `keypad`; returns the function that stops it. */
export function followKeypad(room: Room, callerIdentity: string, keypad: CallKeypad): () => void {
  const onDigit = (_code: number, digit: string, participant: RemoteParticipant) => {
    if (participant?.identity !== callerIdentity || !DIGIT.test(digit)) return;
    keypad.press(digit);
  };
  room.on(RoomEvent.DtmfReceived, onDigit);
  return () => void room.off(RoomEvent.DtmfReceived, onDigit);
}
