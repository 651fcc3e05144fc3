/** A stable, unique 64-bit IEEE address per environment sensor: device index in the low bits. */
export function ieeeAddressOf(index: number): string {
  return `0x00124b00${index.toString(16).padStart(8, '0')}`;
}
