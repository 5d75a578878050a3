import { encode } from 'uqr';

// A QR code drawn as SVG rectangles by Preact (no markup strings, nothing inline).

export function QrCode(props: { readonly text: string; readonly label: string }) {
  const { data, size } = encode(props.text, { ecc: 'M', border: 2 });
  const cells: preact.JSX.Element[] = [];
  data.forEach((row, y) => {
    row.forEach((dark, x) => {
      if (dark) cells.push(<rect key={`${x},${y}`} x={x} y={y} width={1} height={1} />);
    });
  });
  return (
    <svg class="qr" viewBox={`0 0 ${size} ${size}`} role="img" aria-label={props.label} shape-rendering="crispEdges">
      <rect class="qr-light" x={0} y={0} width={size} height={size} />
      {cells}
    </svg>
  );
}
