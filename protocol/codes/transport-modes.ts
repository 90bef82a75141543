/**
 * UN/ECE Recommendation 19 "Codes for Modes of Transport" (UN/CEFACT): one digit, as the WCO DM
 * carries it in BorderTransportMeans/ModeCode (n1). 0 (not specified) and 9 (not applicable) are left out:
 * means of transport crossing a border always have a mode.
 */
import { z } from 'zod';

export const REC19_TRANSPORT_MODES = {
  '1': 'Maritime transport',
  '2': 'Rail transport',
  '3': 'Road transport',
  '4': 'Air transport',
  '5': 'Mail',
  '6': 'Multimodal transport',
  '7': 'Fixed transport installations (pipelines, power lines)',
  '8': 'Inland water transport',
} as const;

export type TransportModeCode = keyof typeof REC19_TRANSPORT_MODES;

export const TransportMode = z.enum(Object.keys(REC19_TRANSPORT_MODES) as [TransportModeCode, ...TransportModeCode[]], {
  message: 'expected a UN/ECE Rec 19 transport mode code as a one-digit string: "1" sea, "2" rail, "3" road, "4" air, "5" mail, "6" multimodal, "7" fixed installation, "8" inland water',
});
