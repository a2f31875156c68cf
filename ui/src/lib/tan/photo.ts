import type { PhotoTan } from '../../bindings';

/** The same allow-list as `kontor_core::tan::ALLOWED_IMAGE_TYPES`: only these end up in an `<img>` source. */
export const ALLOWED_IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/svg+xml'] as const;

/** Zoom steps, as factors of the image's base size. */
export const ZOOM_LEVELS = [0.5, 0.75, 1, 1.5, 2, 3, 4] as const;
export const ZOOM_DEFAULT_INDEX = ZOOM_LEVELS.indexOf(1);

/** Small images (a 25-module QR at 1 px per module) are first scaled up by a whole factor to at least this. */
export const MIN_BASE_SIZE = 200;

/** A `data:` URI for the image, or null when its type is not allowed or the data is not base64. */
export function photoDataUri(photo: PhotoTan): string | null {
  const mime = photo.mime_type.trim().toLowerCase();
  if (!(ALLOWED_IMAGE_TYPES as readonly string[]).includes(mime)) return null;
  const data = photo.image.replace(/\s+/g, '');
  if (data.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(data)) return null;
  return `data:${mime};base64,${data}`;
}

/** Pixel graphics (QR codes, photoTAN mosaics) are scaled without smoothing; photos and SVG as usual. */
export function isPixelArt(mimeType: string): boolean {
  const mime = mimeType.trim().toLowerCase();
  return mime === 'image/png' || mime === 'image/gif' || mime === 'image/webp';
}

/** The width at zoom 1: the natural width, scaled up by a whole factor if it is under {@link MIN_BASE_SIZE}. */
export function baseWidth(naturalWidth: number): number {
  if (!(naturalWidth > 0)) return MIN_BASE_SIZE;
  return naturalWidth >= MIN_BASE_SIZE ? naturalWidth : naturalWidth * Math.ceil(MIN_BASE_SIZE / naturalWidth);
}
