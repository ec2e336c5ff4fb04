export type StockAnswer = 'available' | 'unknown_sku' | 'out_of_stock';

/** SKUs starting with this are always out of stock: a way to reach out_of_stock without a fault. */
export const SOLD_OUT_PREFIX = 'SOLDOUT';
/** Without a list, SKUs starting with this are unknown (and every other one is sold). */
export const UNKNOWN_PREFIX = 'UNKNOWN';

/**
 * What the supplier makes. With a list, only those SKUs; without one, any
 * SKU but those starting with UNKNOWN, so the shop's own product list works
 * against the sandbox as it is.
 */
export function createCatalogue(skus?: readonly string[]): (sku: string) => StockAnswer {
  const known = skus ? new Set(skus) : null;
  return (sku) => {
    if (known ? !known.has(sku) : sku.startsWith(UNKNOWN_PREFIX)) return 'unknown_sku';
    if (sku.startsWith(SOLD_OUT_PREFIX)) return 'out_of_stock';
    return 'available';
  };
}

export type Catalogue = ReturnType<typeof createCatalogue>;
