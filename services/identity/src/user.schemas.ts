/** DTOs of accounts, sign-in and tokens: validation, OpenAPI and handler types from one place. */
import { type Static, Type } from 'typebox';

export const Uuid = Type.String({ format: 'uuid', maxLength: 36 });
export const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false });

export const Role = Type.Union([Type.Literal('customer'), Type.Literal('admin')], { description: 'customer or admin' });
export const Roles = Type.Array(Role, { minItems: 1, maxItems: 2, uniqueItems: true });

/** Its shape is checked after trimming (auth.service), with a sentence a reader understands. */
export const Email = Type.String({ minLength: 3, maxLength: 254, description: 'An email address like reader@example.com; stored trimmed and lower-cased' });
export const Name = Type.String({ minLength: 1, maxLength: 100, description: 'How we address the reader' });
/** Only a bound here: the password policy (length, common passwords) answers with a sentence of its own. */
export const Password = Type.String({ minLength: 1, maxLength: 1024, description: '10 to 128 characters, not a common password, not mostly your email' });
export const Phone = Type.String({
  minLength: 5,
  maxLength: 20,
  pattern: '^\\+?[0-9][0-9 ]*$',
  description: 'Digits and spaces, optionally starting with +, e.g. +49 30 1234567',
});
const Timestamp = Type.String({ format: 'date-time' });

/** The user as the sign-in answers show it. */
export const User = Type.Object({ id: Uuid, email: Type.String(), name: Type.String(), roles: Type.Array(Role) });
export type User = Static<typeof User>;

export const Profile = Type.Object({
  id: Uuid,
  email: Type.String(),
  name: Type.String(),
  phone: Type.Optional(Type.String()),
  roles: Type.Array(Role),
  createdAt: Timestamp,
});
export type Profile = Static<typeof Profile>;

export const RegisterBody = Type.Object({ email: Email, password: Password, name: Name }, { additionalProperties: false });
export type RegisterBody = Static<typeof RegisterBody>;

export const LoginBody = Type.Object(
  { email: Type.String({ minLength: 1, maxLength: 254 }), password: Type.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);
export type LoginBody = Static<typeof LoginBody>;

/** Our refresh tokens are 43 characters; the bound only keeps absurd input out. */
const RefreshToken = Type.String({ minLength: 1, maxLength: 256, description: 'The opaque refresh token from the last sign-in or refresh' });
export const RefreshBody = Type.Object({ refreshToken: RefreshToken }, { additionalProperties: false });
export type RefreshBody = Static<typeof RefreshBody>;

export const TokenResponse = Type.Object({
  accessToken: Type.String({ description: 'JWT (EdDSA) for the Authorization: Bearer header' }),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ description: 'Seconds until the access token expires' }),
  refreshToken: Type.String({ description: 'Single use: each refresh answers a new one' }),
  user: User,
});
export type TokenResponse = Static<typeof TokenResponse>;

export const PatchMeBody = Type.Object(
  {
    name: Type.Optional(Name),
    phone: Type.Optional(Type.Union([Phone, Type.Null()], { description: 'null removes the phone number' })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type PatchMeBody = Static<typeof PatchMeBody>;

export const UsersQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Page size, default 20' })),
    cursor: Type.Optional(Type.String({ format: 'uuid', maxLength: 36, description: 'nextCursor of the previous page' })),
  },
  { additionalProperties: false },
);
export type UsersQuery = Static<typeof UsersQuery>;

export const UserPage = Type.Object({ items: Type.Array(Profile), nextCursor: Type.Optional(Type.String()) });
export type UserPage = Static<typeof UserPage>;

export const RolesBody = Type.Object({ roles: Roles }, { additionalProperties: false });
export type RolesBody = Static<typeof RolesBody>;

export const Jwks = Type.Object({
  keys: Type.Array(
    Type.Object({
      kty: Type.String(),
      crv: Type.String(),
      x: Type.String(),
      kid: Type.String(),
      alg: Type.String(),
      use: Type.String(),
    }),
  ),
});
