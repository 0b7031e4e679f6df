/** The shapes of the API answers the storefront reads (see each service's *.schemas.ts). */

export interface Money {
  /** Integer minor units (cents): 1299 is €12.99. */
  amount: number;
  currency: string;
}

export type Role = 'customer' | 'admin';

export interface User {
  id: string;
  email: string;
  name: string;
  roles: Role[];
}

export interface TokenResponse {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  refreshToken: string;
  user: User;
}

export interface CategoryRef {
  id: string;
  name: string;
  slug: string;
}

export interface CategoryNode extends CategoryRef {
  children: CategoryRef[];
}

export interface Product {
  id: string;
  title: string;
  authors: string[];
  isbn: string;
  description: string;
  price: Money;
  category: CategoryRef | null;
  status: 'active' | 'unavailable';
  availability: 'in_stock' | 'out_of_stock';
  inStock: boolean;
}

export interface Page<T> {
  items: T[];
  nextCursor?: string | null;
}

export interface CartItem {
  productId: string;
  title: string;
  quantity: number;
  unitPrice: Money;
  currentPrice: Money;
  priceChanged: boolean;
  available: boolean;
  lineTotal: Money;
}

export interface Cart {
  id: string | null;
  items: CartItem[];
  subtotal: Money;
  priceChanged: boolean;
  expiresAt: string | null;
  cartToken?: string;
}

export interface MergedCart extends Cart {
  merged: { added: number; combined: number; capped: string[]; skipped: string[] };
}

export interface Address {
  name: string;
  line1: string;
  line2?: string;
  city: string;
  postalCode: string;
  country: string;
}

export interface SavedAddress extends Address {
  id: string;
  label?: string;
  isDefault: boolean;
}

export interface ShippingOption {
  id: string;
  name: string;
  price: Money;
  estimatedDays: { min: number; max: number };
}

export type OrderStatus = 'created' | 'paid' | 'cancelled' | 'refunded';
export type PaymentStatus = 'pending' | 'success' | 'failed' | 'cancelled' | 'timeout' | 'refunded';

export interface PaymentSummary {
  id: string;
  status: PaymentStatus;
  paymentUrl: string | null;
}

export interface PaymentAttempt extends PaymentSummary {
  attempt: number | null;
  failureReason: string | null;
  updatedAt: string;
}

export interface TimelineEntry {
  at: string;
  status: string;
  event: string;
  detail: string | null;
}

export interface OrderActions {
  canRetryPayment: boolean;
  canRefund: boolean;
  refundableUntil: string | null;
}

export interface Order {
  id: string;
  /** Present on newer order services (and on the admin listing). */
  userId?: string;
  status: OrderStatus;
  lines: Array<{ bookId: string; title: string; quantity: number; unitPrice: Money; lineTotal: Money }>;
  subtotal: Money;
  tax: Money;
  shipping: Money;
  total: Money;
  currency: string;
  shippingAddress: Address;
  shippingMethod: string;
  paymentDeadline: string;
  payment: PaymentSummary | null;
  payments: PaymentAttempt[];
  cancelReason: string | null;
  paidAt: string | null;
  timeline: TimelineEntry[];
  /** What the reader may do now; older order services do not send it (treat as unknown). */
  actions?: OrderActions;
  createdAt: string;
  updatedAt: string;
}

export interface StockLevel {
  bookId: string;
  onHand: number;
  reserved: number;
  available: number;
}

export interface Notification {
  id: string;
  type: 'order-paid' | 'payment-failed' | 'order-cancelled' | 'order-refunded' | string;
  orderId: string | null;
  subject: string;
  message: string;
  status: string;
  createdAt: string;
  sentAt: string | null;
}
