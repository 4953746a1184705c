// SPDX-License-Identifier: MIT
/**
 * Names of the 50 outputs of `model/Sigmoid` in the MSD-trained MusiCNN (msd-musicnn-1), in
 * output order: the Million Song Dataset's top-50 Last.fm tags as the musicnn authors list them.
 */
export const MSD_TAGS: readonly string[] = [
  'rock', 'pop', 'alternative', 'indie', 'electronic', 'female vocalists', 'dance', '00s', 'alternative rock', 'jazz',
  'beautiful', 'metal', 'chillout', 'male vocalists', 'classic rock', 'soul', 'indie rock', 'Mellow', 'electronica', '80s',
  'folk', '90s', 'chill', 'instrumental', 'punk', 'oldies', 'blues', 'hard rock', 'ambient', 'acoustic',
  'experimental', 'female vocalist', 'guitar', 'Hip-Hop', '70s', 'party', 'country', 'easy listening', 'sexy', 'catchy',
  'funk', 'electro', 'heavy metal', 'Progressive rock', '60s', 'rnb', 'indie pop', 'sad', 'House', 'happy',
];

/** Tag names for a tag vector of this length: the MSD names for 50, else tag_0, tag_1, ... */
export function tagNames(count: number): string[] {
  if (count === MSD_TAGS.length) return [...MSD_TAGS];
  return Array.from({ length: count }, (_, i) => `tag_${i}`);
}

/** The top `n` tags by score, highest first. */
export function topTags(scores: Float32Array, n: number): { name: string; score: number }[] {
  const names = tagNames(scores.length);
  return Array.from(scores, (score, i) => ({ name: names[i], score }))
    .sort((a, b) => b.score - a.score)
    .slice(0, Math.max(0, n));
}
