// Draws an explanation (fixed-point attribution values and their shape) as a heatmap on a canvas: red positive,
// blue negative, channels summed; a flat vector is laid out as the nearest square.
export function drawHeatmap(canvas, shape, values) {
  const nums = values.map(Number);
  let h, w;
  if (shape.length >= 2) { h = Number(shape[shape.length - 2]); w = Number(shape[shape.length - 1]); }
  else { w = Math.ceil(Math.sqrt(nums.length)); h = Math.ceil(nums.length / w); }
  const plane = new Float64Array(h * w);
  nums.forEach((v, i) => { plane[i % (h * w)] += v; });
  const max = plane.reduce((m, v) => Math.max(m, Math.abs(v)), 0) || 1;
  const ctx = canvas.getContext("2d");
  const cw = canvas.width / w, ch = canvas.height / h;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const t = plane[y * w + x] / max;
      const a = Math.round(255 * (1 - Math.abs(t)));
      ctx.fillStyle = t >= 0 ? `rgb(255,${a},${a})` : `rgb(${a},${a},255)`;
      ctx.fillRect(x * cw, y * ch, Math.ceil(cw), Math.ceil(ch));
    }
  }
  return { h, w };
}
