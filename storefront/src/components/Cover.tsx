/** A drawn cover (the catalogue has no images): the title and author on a colour of the book's own. */
import type { Product } from '../types.ts';

function hueOf(id: string): number {
  let h = 0;
  for (const c of id) h = (h * 31 + c.charCodeAt(0)) % 360;
  return h;
}

export function Cover({ product, large = false }: { product: Pick<Product, 'id' | 'title' | 'authors'>; large?: boolean }) {
  const hue = hueOf(product.id);
  return (
    <div
      className={large ? 'cover large' : 'cover'}
      aria-hidden="true"
      style={{ background: `linear-gradient(150deg, hsl(${hue} 45% 26%), hsl(${(hue + 35) % 360} 45% 42%))` }}
    >
      <span className="cover-title">{product.title}</span>
      <span className="cover-author">{product.authors[0] ?? ''}</span>
    </div>
  );
}
