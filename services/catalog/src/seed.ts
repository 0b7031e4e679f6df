/**
 * A realistic, deterministic demo catalogue: the same books (titles, authors, ISBNs, prices) on
 * every machine, from a seeded PRNG and word lists. Books are generated in sequence, so seeding
 * 500 and later 3000 adds books 501–3000; re-running adds nothing (ON CONFLICT on the ISBN).
 * The categories come with the schema (migrations/0001_catalog.sql); books name theirs by slug.
 */
import { createHash } from 'node:crypto';
import { BookAdded } from '@folio/contracts/events';
import { type Pool, withTransaction } from '@folio/platform/db';
import { Outbox } from '@folio/platform/messaging/outbox';
import { isbn13CheckDigit } from './isbn.ts';

export const DEFAULT_SEED_BOOKS = 3000;
const BATCH = 500;
const BOOK_SEED = 0x0f0110;
const AUTHOR_SEED = 0x0a0b0c;
const AUTHOR_COUNT = 320;

export interface SeedOptions {
  books?: number;
  /** Progress lines, e.g. console.log or a logger's info. */
  log?: (line: string) => void;
  /**
   * Where BookAdded events are written: the running service's outbox, so its relay wakes at once.
   * Without it (the CLI) a detached outbox writes the same rows, relayed when the service next runs.
   */
  outbox?: Outbox;
}

export interface SeedResult {
  /** Books of the sequence that were asked for. */
  books: number;
  /** Rows actually added (the rest existed already). */
  inserted: number;
  ms: number;
}

export interface SeedBook {
  id: string;
  title: string;
  authors: string[];
  isbn: string;
  description: string;
  /** Euro cents. */
  price: number;
  category: string;
  /** How long before the seeding the book "arrived": books arrive in small batches. */
  ageHours: number;
}

/** mulberry32: a tiny, fast 32-bit PRNG; the same seed gives the same sequence everywhere. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const between = (random: Random, min: number, max: number): number => min + Math.floor(random() * (max - min + 1));

// ---------------------------------------------------------------------------------------------
// Word lists: '|'-separated, so a list stays a line or two.

const list = (items: string): string[] => items.split('|');

const FIRST_NAMES = list(
  'Ada|Alice|Amara|Anna|Arthur|Beatrice|Benedict|Carmen|Clara|Daniel|David|Elena|Eliza|Emil|Esther|Felix|Florence|Gabriel|Grace|Hannah|' +
    'Harriet|Hugo|Ines|Iris|Isaac|Jakob|James|Johanna|Jonah|Julia|Kenji|Laila|Lars|Leonora|Lucas|Lucia|Magnus|Margaret|Mateo|Maya|Miriam|' +
    'Nadia|Nathaniel|Nora|Oliver|Olivia|Oscar|Paloma|Priya|Rafael|Rosa|Ruth|Samuel|Sofia|Stefan|Tessa|Theo|Ursula|Vera|Wilhelmina',
);
const LAST_NAMES = list(
  'Abernathy|Achterberg|Adeyemi|Albrecht|Almeida|Ashworth|Bellweather|Blackwood|Brennan|Calloway|Castellanos|Chakrabarti|Delacroix|' +
    'Dunmore|Eriksen|Fairbanks|Falconer|Fitzgerald|Galloway|Greenhalgh|Hargreaves|Hartmann|Holloway|Ibáñez|Jablonski|Kavanagh|Kowalczyk|' +
    "Lindqvist|Lockhart|MacAllister|Marchetti|Mbeki|Montgomery|Nakamura|Novak|O'Sullivan|Okonkwo|Pemberton|Petrovic|Quigley|Ravenscroft|" +
    'Rosenthal|Sandoval|Sinclair|Steinberg|Takahashi|Thornbury|Underwood|Valentini|Vasquez|Whitmore|Winterbourne|Yamamoto|Zielinski',
);
const CHARACTERS = list('Mara|Tobias|Edie|Caspian|Wren|Jonas|Isolde|Finn|Delphine|Ezra|Odile|Rowan');

type Kind = 'fiction' | 'nonfiction' | 'children';

interface Theme {
  kind: Kind;
  /** How often the category is picked, relative to the others. */
  weight: number;
  /** Price range in whole euros. */
  euros: [number, number];
  templates: readonly string[];
  /** Slots: {a} adjective, {n} noun, {p} place, {t} topic, {s} subtitle, {c} a character. */
  a: readonly string[];
  n: readonly string[];
  p: readonly string[];
  t: readonly string[];
}

const NOVEL = list("The {a} {n}|{n} of {p}|The {n} of {p}|A {n} in {p}|The {a} {n} of {p}|{a} {n}|{c}'s {n}|The Last {n}|Before the {n}");
const STUDY = list(
  '{t}: {s}|A Short History of {t}|The {a} Story of {t}|Understanding {t}|The Art of {t}|In Search of {t}|{t} for Everyone|Thinking About {t}',
);
const STUDY_ADJECTIVES = list('Remarkable|Curious|Secret|Extraordinary|Untold|Surprising|Essential|Unfinished');
const SUBTITLES = list(
  "A Very Short Introduction|A Beginner's Guide|The Definitive Guide|Ideas That Changed the World|A New History|What Everyone Needs to Know|From the Beginning|A Field Guide",
);

const theme = (
  kind: Kind,
  weight: number,
  euros: [number, number],
  templates: readonly string[],
  slots: { a?: string; n?: string; p?: string; t?: string },
): Theme => ({
  kind,
  weight,
  euros,
  templates,
  a: slots.a ? list(slots.a) : STUDY_ADJECTIVES,
  n: list(slots.n ?? 'Story'),
  p: list(slots.p ?? 'the World'),
  t: list(slots.t ?? 'Books'),
});

/** One theme per sub-category of the migration's tree, keyed by slug. */
const THEMES: Record<string, Theme> = {
  'literary-fiction': theme('fiction', 6, [9, 24], NOVEL, {
    a: 'Quiet|Long|Small|Borrowed|Unfinished|Ordinary|Distant|Paper|Salt|Blue',
    n: 'House|Summer|Years|River|Letters|Garden|Daughter|Window|Harvest|Silence|Island',
    p: 'Lisbon|the Lake|Dunmore|the Coast|Vienna|the Valley|Trieste|Orkney',
  }),
  fantasy: theme('fiction', 6, [9, 26], NOVEL, {
    a: 'Iron|Hollow|Shattered|Ember|Silver|Thorned|Forgotten|Crimson|Nameless',
    n: 'Crown|Throne|Dragon|Blade|Oath|Witch|Citadel|Storm|Sorceress|Kingdom',
    p: 'Aldermere|the Northern Wastes|Kharadun|Ysolde|the Drowned Isles|Vael|the Ashen Marches',
  }),
  'science-fiction': theme('fiction', 5, [9, 24], NOVEL, {
    a: 'Final|Dark|Red|Silent|Quantum|Hollow|Broken|Distant',
    n: 'Orbit|Signal|Colony|Protocol|Horizon|Machine|Starship|Frontier|Archive|Singularity',
    p: "Europa|Kepler's Reach|the Outer Belt|New Shanghai|Titan|Proxima",
  }),
  'crime-mystery': theme('fiction', 6, [8, 22], NOVEL, {
    a: 'Cold|Silent|Deadly|Quiet|Crooked|Last|Missing|Bitter',
    n: 'Witness|Alibi|Verdict|Confession|Case|Inheritance|Inquest|Murders|Evidence',
    p: 'Marlow|Harrogate|the Docks|Whitby|Rue Morgue|Saltmarsh|Kingsbridge',
  }),
  thriller: theme('fiction', 5, [8, 22], NOVEL, {
    a: 'Black|Zero|Rogue|Hidden|Burning|Final|Deep',
    n: 'Protocol|Target|Hour|Cipher|Agent|Exit|Conspiracy|Asset|Directive',
    p: 'Berlin|Istanbul|Langley|the Border|Vladivostok|Geneva',
  }),
  romance: theme('fiction', 4, [8, 18], NOVEL, {
    a: 'Summer|Sweet|Second|Secret|Unexpected|Perfect|Midnight',
    n: 'Promise|Affair|Kiss|Heart|Wedding|Season|Proposal|Chance',
    p: 'Capri|Paris|Cornwall|the Vineyard|Provence|Amalfi',
  }),
  'historical-fiction': theme('fiction', 4, [9, 24], NOVEL, {
    a: "Winter|Last|Queen's|Lost|Golden|Burning|Emperor's",
    n: 'Empress|Harvest|Apprentice|Cartographer|Exile|Court|Tapestry|Physician',
    p: 'Florence|Byzantium|Versailles|Constantinople|Edo|Alexandria|Samarkand',
  }),
  horror: theme('fiction', 3, [8, 20], NOVEL, {
    a: 'Hungry|Pale|Drowned|Hollow|Whispering|Rotten|Sleepless',
    n: 'House|Dark|Children|Shadow|Teeth|Cellar|Hunger|Visitor',
    p: "Blackwood|Hallow's End|the Marsh|Ravensgate|Gallows Hill",
  }),
  physics: theme('nonfiction', 3, [14, 38], STUDY, {
    t: 'Quantum Mechanics|Relativity|Thermodynamics|Particle Physics|Light|Gravity|Entropy|Time|the Atom|Magnetism',
  }),
  biology: theme('nonfiction', 3, [14, 36], STUDY, { t: 'Evolution|the Cell|Genetics|Ecology|the Brain|Microbes|Bees|Forests|the Immune System|Coral Reefs' }),
  astronomy: theme('nonfiction', 2, [14, 40], STUDY, { t: 'the Solar System|Black Holes|Galaxies|Exoplanets|the Moon|Dark Matter|the Big Bang|Stars|Comets' }),
  mathematics: theme('nonfiction', 2, [16, 45], STUDY, { t: 'Prime Numbers|Infinity|Probability|Geometry|Calculus|Statistics|Chaos|Topology|Game Theory' }),
  computing: theme('nonfiction', 3, [24, 49], [...STUDY, 'Practical {t}', '{t} in Practice', 'Designing {t}'], {
    t: 'Algorithms|Databases|Machine Learning|Cryptography|Distributed Systems|Compilers|Networks|Software Design|Type Systems',
  }),
  'ancient-history': theme('nonfiction', 2, [14, 35], [...STUDY, 'The Fall of {t}', 'The World of {t}'], {
    t: 'Rome|Ancient Egypt|the Greeks|Persia|Carthage|the Silk Road|Babylon|the Celts|the Etruscans',
  }),
  'modern-history': theme('nonfiction', 2, [14, 35], STUDY, {
    t: 'the Cold War|the Industrial Revolution|Empire|the Twentieth Century|the French Revolution|the Space Race|the Railways',
  }),
  'military-history': theme('nonfiction', 2, [15, 38], [...STUDY, 'The Road to {t}', 'Voices from {t}'], {
    t: 'Waterloo|the Somme|Stalingrad|Naval Warfare|the Blitz|Gettysburg|Agincourt|Air Power',
  }),
  'picture-books': theme('children', 3, [7, 16], list('The {a} {n}|{c} and the {n}|Goodnight, {a} {n}|Where Is {a} {n}?|The {n} Who Wanted More'), {
    a: 'Little|Sleepy|Brave|Hungry|Tiny|Grumpy|Curious',
    n: 'Bear|Owl|Dragon|Fox|Rabbit|Penguin|Elephant|Hedgehog',
  }),
  'young-adult': theme('fiction', 3, [8, 19], list('{a} {n}|The {n} We Lost|We Were {a}|The {a} {n}|{n} of {p}'), {
    a: 'Wild|Burning|Shadow|Glass|Starless|Broken|Fearless',
    n: 'Girls|Hearts|Kingdom|Summer|Sky|Academy|Rebels|Secrets',
    p: 'Ember Bay|the Academy|Northwood|the Last City',
  }),
  economics: theme('nonfiction', 2, [15, 35], STUDY, { t: 'Money|Inequality|Markets|Inflation|Trade|Debt|Growth|Central Banks' }),
  management: theme('nonfiction', 2, [15, 32], [...STUDY, 'Better {t}', 'The {t} Playbook'], {
    t: 'Leadership|Strategy|Teams|Negotiation|Productivity|Innovation|Change|Decision-Making',
  }),
  cookery: theme('nonfiction', 2, [16, 39], list('{t}: Recipes from {p}|Simply {t}|The {t} Kitchen|{t} at Home|A Year of {t}'), {
    t: 'Bread|Italian Cooking|Vegetables|Baking|Spice|Fermentation|Mediterranean Food|Soups|Noodles',
    p: 'Sicily|Oaxaca|Kyoto|Lebanon|the Basque Country|Puglia',
  }),
  travel: theme('nonfiction', 2, [12, 30], list('Walking {t}|A Year in {t}|The Roads of {t}|{t}: {s}|Slow Travels in {t}'), {
    t: 'Iceland|Japan|the Alps|Patagonia|Scotland|Morocco|the Balkans|Norway',
  }),
  'art-photography': theme('nonfiction', 2, [19, 49], [...STUDY, 'Ways of Seeing {t}', 'The Eye for {t}'], {
    t: 'Light|Colour|Portraiture|Landscape|Modern Art|the Renaissance|Street Photography|Drawing',
  }),
};

const FICTION_SENTENCES = [
  'In {p}, {c} discovers that nothing is quite as it seems.',
  'A {adj} novel about {theme}, memory and the ties that bind.',
  '{author} returns with a story of {theme} and second chances.',
  'When a stranger arrives, {c} must choose between duty and desire.',
  'Told over a single {season}, it is a tale of {theme} written with warmth and wit.',
  'Shortlisted for the {prize}.',
  'The first book in a new series.',
  'Now a major television drama.',
];
const NONFICTION_SENTENCES = [
  'An accessible guide to {topic}, from the first ideas to the latest research.',
  '{author} explains {topic} with clarity, curiosity and humour.',
  'Drawing on years of research, this book shows why {topic} matters today.',
  'Illustrated throughout, with notes, a glossary and an index.',
  'Ideal for students and curious readers alike.',
  'Winner of the {prize}.',
];
const CHILDREN_SENTENCES = [
  'A {adj} read-aloud story about {theme}, perfect for bedtime.',
  'Bright, funny illustrations on every page.',
  'For readers aged 3 to 6.',
  'A gentle tale of {theme} from {author}, a favourite of young readers.',
];
const THEME_WORDS = list('love|loss|family|courage|betrayal|friendship|ambition|grief|hope|belonging');
const DESCRIPTION_ADJECTIVES = list('luminous|gripping|tender|haunting|sharp|joyful|unforgettable');
const SEASONS = list('summer|winter|autumn|spring');
const PRIZES = list('Meridian Prize for Fiction|Harbour Book Award|Lantern Prize|Northern Lights Book Prize');

const CENTS = [99, 99, 99, 99, 49, 95, 50] as const;

// ---------------------------------------------------------------------------------------------
// Generation

interface Author {
  name: string;
  category: string;
}

/** A fixed pool of authors, each writing in one category (as most do). */
function authorsByCategory(): Map<string, string[]> {
  const random = mulberry32(AUTHOR_SEED);
  const categories = Object.keys(THEMES);
  const seen = new Set<string>();
  const authors: Author[] = [];
  while (authors.length < AUTHOR_COUNT) {
    const first = pick(random, FIRST_NAMES);
    const last = pick(random, LAST_NAMES);
    const middle = random() < 0.15 ? ` ${pick(random, FIRST_NAMES)[0]}.` : '';
    const name = random() < 0.1 ? `${first[0]}.${middle} ${last}` : `${first}${middle} ${last}`;
    if (seen.has(name)) continue;
    seen.add(name);
    authors.push({ name, category: categories[authors.length % categories.length]! });
  }
  const out = new Map<string, string[]>();
  for (const a of authors) out.set(a.category, [...(out.get(a.category) ?? []), a.name]);
  return out;
}

/** A title from a template, and the topic it is about (for the description). */
function fill(template: string, random: Random, theme: Theme): { title: string; topic: string | undefined } {
  let topic: string | undefined;
  const title = template.replace(/\{([anptsc])\}/g, (_, slot: string) => {
    switch (slot) {
      case 'a':
        return pick(random, theme.a);
      case 'n':
        return pick(random, theme.n);
      case 'p':
        return pick(random, theme.p);
      case 't':
        topic = pick(random, theme.t);
        return topic;
      case 's':
        return pick(random, SUBTITLES);
      default:
        return pick(random, CHARACTERS);
    }
  });
  return { title: title.replace(/\bA (?=[AEIOU])/g, 'An '), topic };
}

function describe(random: Random, theme: Theme, about: string, author: string): string {
  const sentences = theme.kind === 'fiction' ? FICTION_SENTENCES : theme.kind === 'children' ? CHILDREN_SENTENCES : NONFICTION_SENTENCES;
  const count = between(random, 2, 4);
  const chosen: string[] = [];
  while (chosen.length < Math.min(count, sentences.length)) {
    const s = pick(random, sentences);
    if (!chosen.includes(s)) chosen.push(s);
  }
  return chosen
    .map((s) =>
      s.replace(/\{(\w+)\}/g, (_, slot: string) => {
        switch (slot) {
          case 'p':
            return pick(random, theme.p);
          case 'c':
            return pick(random, CHARACTERS);
          case 'adj':
            return pick(random, DESCRIPTION_ADJECTIVES);
          case 'theme':
            return pick(random, THEME_WORDS);
          case 'season':
            return pick(random, SEASONS);
          case 'prize':
            return pick(random, PRIZES);
          case 'topic':
            return about;
          case 'author':
            return author;
          default:
            return slot;
        }
      }),
    )
    .join(' ')
    .replace(/\bA (?=[aeiou])/g, 'An ');
}

/** A UUID derived from the ISBN (version 5 layout), so a seeded book has the same id in every database. */
function bookIdOf(isbn: string): string {
  const h = createHash('sha1').update(`folio-seed-book:${isbn}`).digest('hex');
  const variant = ((Number.parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The first `count` books of the demo catalogue, always the same ones. */
export function generateBooks(count: number): SeedBook[] {
  const random = mulberry32(BOOK_SEED);
  const authors = authorsByCategory();
  const categories = Object.entries(THEMES);
  const totalWeight = categories.reduce((sum, [, t]) => sum + t.weight, 0);
  const isbns = new Set<string>();
  const books: SeedBook[] = [];
  for (let i = 0; i < count; i++) {
    let r = random() * totalWeight;
    let [category, theme] = categories[0]!;
    for (const [slug, t] of categories) {
      r -= t.weight;
      if (r < 0) {
        [category, theme] = [slug, t];
        break;
      }
    }
    const writers = authors.get(category) ?? ['Anonymous'];
    const byline = [pick(random, writers)];
    const extra = random();
    const coauthors = extra < 0.05 ? 2 : extra < 0.2 ? 1 : 0;
    for (let k = 0; k < coauthors; k++) {
      const other = pick(random, writers);
      if (!byline.includes(other)) byline.push(other);
    }
    const { title, topic } = fill(pick(random, theme.templates), random, theme);

    let isbn: string;
    do {
      const first12 = `978${random() < 0.6 ? '0' : '1'}${String(Math.floor(random() * 1e8)).padStart(8, '0')}`;
      isbn = first12 + isbn13CheckDigit(first12);
    } while (isbns.has(isbn));
    isbns.add(isbn);

    const euros = between(random, theme.euros[0], theme.euros[1]);
    const cents = euros <= 7 ? 99 : pick(random, CENTS);
    books.push({
      id: bookIdOf(isbn),
      title,
      authors: byline,
      isbn,
      description: describe(random, theme, topic ?? title, byline[0]!),
      price: euros * 100 + cents,
      category,
      ageHours: Math.floor(i / 7) * 5,
    });
  }
  return books;
}

const INSERT = `
INSERT INTO books (id, title, authors, isbn, description, price_amount, price_currency, category_id, created_at, updated_at)
SELECT r.id, r.title, r.authors, r.isbn, r.description, r.price, 'EUR', c.id,
       now() - r.age_hours * interval '1 hour', now() - r.age_hours * interval '1 hour'
FROM jsonb_to_recordset($1::jsonb) AS r (id uuid, title text, authors text[], isbn text, description text, price integer, category text, age_hours integer)
LEFT JOIN categories c ON c.slug = r.category
ON CONFLICT (isbn) DO NOTHING
RETURNING id, title`;

/**
 * Inserts the demo catalogue in batches (one statement each); safe to run again. Each batch is one
 * transaction that also publishes BookAdded for every book it actually added (not for those that
 * existed), so the inventory opens stock for exactly the new books.
 */
export async function seedCatalog(pool: Pool, opts: SeedOptions = {}): Promise<SeedResult> {
  const count = opts.books ?? DEFAULT_SEED_BOOKS;
  if (!Number.isSafeInteger(count) || count < 0) throw new Error(`books must be a whole number ≥ 0, got ${count}`);
  const started = performance.now();
  const books = generateBooks(count);
  const outbox = opts.outbox ?? new Outbox();
  let inserted = 0;
  for (let from = 0; from < books.length; from += BATCH) {
    const batch = books.slice(from, from + BATCH).map(({ ageHours, ...b }) => ({ ...b, age_hours: ageHours }));
    inserted += await withTransaction(pool, async (tx) => {
      const { rows } = await tx.query<{ id: string; title: string }>(INSERT, [JSON.stringify(batch)]);
      for (const book of rows) await outbox.publish(tx, BookAdded, { aggregateId: book.id, payload: { bookId: book.id, title: book.title } });
      return rows.length;
    });
    opts.log?.(`catalog seed: ${Math.min(from + BATCH, books.length)}/${books.length} books (${inserted} new)`);
  }
  const ms = Math.round(performance.now() - started);
  opts.log?.(`catalog seed: done, ${inserted} of ${books.length} books added in ${ms} ms`);
  return { books: books.length, inserted, ms };
}
