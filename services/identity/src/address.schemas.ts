/** DTOs of saved addresses: the shared Address contract plus a label and the default flag. */
import { Address } from '@folio/contracts/address';
import { type Static, Type } from 'typebox';
import { Uuid } from './user.schemas.ts';

export const MAX_ADDRESSES_PER_USER = 20;

const Label = Type.String({ minLength: 1, maxLength: 40, description: 'e.g. Home, Office' });
const IsDefault = Type.Boolean({ description: 'The address checkout suggests first; at most one is the default' });

export const NewAddress = Type.Object(
  { ...Address.properties, label: Type.Optional(Label), isDefault: Type.Optional(IsDefault) },
  { additionalProperties: false },
);
export type NewAddress = Static<typeof NewAddress>;

const A = Address.properties;
/** Any subset of the fields; null removes an optional one (line2, label). */
export const AddressPatch = Type.Object(
  {
    name: Type.Optional(A.name),
    line1: Type.Optional(A.line1),
    line2: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
    city: Type.Optional(A.city),
    postalCode: Type.Optional(A.postalCode),
    country: Type.Optional(A.country),
    label: Type.Optional(Type.Union([Label, Type.Null()])),
    isDefault: Type.Optional(IsDefault),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type AddressPatch = Static<typeof AddressPatch>;

export const SavedAddress = Type.Object({ id: Uuid, ...Address.properties, label: Type.Optional(Type.String()), isDefault: Type.Boolean() });
export type SavedAddress = Static<typeof SavedAddress>;

export const AddressList = Type.Object({ items: Type.Array(SavedAddress) });
export type AddressList = Static<typeof AddressList>;

export const AddressIdParams = Type.Object({ id: Uuid }, { additionalProperties: false });
export type AddressIdParams = Static<typeof AddressIdParams>;
