import { type Static, Type } from 'typebox';

const Id = Type.String({ format: 'uuid' });
const Name = Type.String({ maxLength: 100, examples: ['Fantasy'] });
const Slug = Type.String({ maxLength: 100, examples: ['fantasy'] });

/** A book's category, as products show it. */
export const CategoryRef = Type.Object({ id: Id, name: Name, slug: Slug }, { additionalProperties: false });
export type CategoryRef = Static<typeof CategoryRef>;

/** The tree has two levels (e.g. Fiction › Fantasy): a sub-category's children are always empty. */
const SubCategory = Type.Object({ id: Id, name: Name, slug: Slug, children: Type.Array(Type.Unknown(), { maxItems: 0 }) }, { additionalProperties: false });
export const CategoryNode = Type.Object({ id: Id, name: Name, slug: Slug, children: Type.Array(SubCategory) }, { additionalProperties: false });
export type CategoryNode = Static<typeof CategoryNode>;

export const CategoryTree = Type.Object({ items: Type.Array(CategoryNode) }, { additionalProperties: false });
export type CategoryTree = Static<typeof CategoryTree>;
