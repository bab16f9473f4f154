// A small EXIF reader for the privacy check: walks the TIFF structure of the raw EXIF block sharp
// returns (metadata().exif: "Exif\0\0" + TIFF for JPEG/WebP, bare TIFF for PNG's eXIf) from IFD0
// to the Exif and GPS IFDs and reports what identifies a place or a device. Tag numbers are those
// of Exif 2.3 (CIPA DC-008) as listed in libexif's libexif/exif-tag.h and exif-tag.c; the DNG
// CameraSerialNumber is 0xC62F. Maker notes are vendor formats and are not parsed.

/** Tags that name the device or its owner, by the IFD they belong to (IFD0 is also searched). */
const IDENTIFYING_TAGS: ReadonlyMap<number, string> = new Map([
  [0xa430, 'CameraOwnerName'],
  [0xa431, 'BodySerialNumber'],
  [0xa435, 'LensSerialNumber'],
  [0xc62f, 'CameraSerialNumber'],
]);
const EXIF_IFD_POINTER = 0x8769;
const GPS_IFD_POINTER = 0x8825;
const GPS_LATITUDE = 0x0002;
const GPS_LONGITUDE = 0x0004;
const ASCII = 2;
/** Bytes per value of each TIFF field type (1 BYTE … 12 DOUBLE, 13 IFD). */
const TYPE_SIZE = [0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4];

/** What an image's EXIF block reveals: a GPS position and identifying tags (name → text). */
export interface ExifPrivacy {
  readonly gps: boolean;
  readonly identifying: ReadonlyArray<{ readonly tag: string; readonly value: string }>;
}

interface Entry {
  readonly tag: number;
  readonly type: number;
  readonly count: number;
  /** Offset of the value bytes in the TIFF block. */
  readonly at: number;
}

/**
 * Read the privacy-relevant tags of an EXIF block; a malformed block yields what could be read.
 *
 * @example
 * const { exif } = await sharp(file).metadata();
 * if (exif && readExifPrivacy(exif).gps) console.log('the photo says where it was taken');
 */
export function readExifPrivacy(exif: Uint8Array): ExifPrivacy {
  const view = new DataView(exif.buffer, exif.byteOffset, exif.byteLength);
  const prefix = exif.length >= 6 && String.fromCharCode(...exif.subarray(0, 4)) === 'Exif' ? 6 : 0;
  const tiff = new DataView(view.buffer, view.byteOffset + prefix, view.byteLength - prefix);
  const none: ExifPrivacy = { gps: false, identifying: [] };
  if (tiff.byteLength < 8) return none;
  const order = tiff.getUint16(0);
  if (order !== 0x4949 && order !== 0x4d4d) return none;
  const le = order === 0x4949;
  const u16 = (at: number) => tiff.getUint16(at, le);
  const u32 = (at: number) => tiff.getUint32(at, le);
  if (u16(2) !== 42) return none;

  const visited = new Set<number>();
  const entries = (offset: number): Entry[] => {
    // A pointer loop or a pointer past the end ends the walk instead of throwing.
    if (visited.has(offset) || offset < 8 || offset + 2 > tiff.byteLength) return [];
    visited.add(offset);
    const out: Entry[] = [];
    const n = u16(offset);
    for (let i = 0; i < n; i++) {
      const p = offset + 2 + i * 12;
      if (p + 12 > tiff.byteLength) break;
      const type = u16(p + 2);
      const count = u32(p + 4);
      const size = (TYPE_SIZE[type] ?? 0) * count;
      const at = size <= 4 ? p + 8 : u32(p + 8);
      if (size === 0 || at + size > tiff.byteLength) continue;
      out.push({ tag: u16(p), type, count, at });
    }
    return out;
  };
  const text = (e: Entry) =>
    e.type === ASCII
      ? new TextDecoder('utf-8')
          .decode(new Uint8Array(tiff.buffer, tiff.byteOffset + e.at, e.count))
          .replace(/\0[\s\S]*$/, '')
          .trim()
      : `(${e.count} values)`;

  const ifd0 = entries(u32(4));
  const pointer = (tag: number) => ifd0.find((e) => e.tag === tag && e.count === 1 && (e.type === 4 || e.type === 13));
  const exifPointer = pointer(EXIF_IFD_POINTER);
  const gpsPointer = pointer(GPS_IFD_POINTER);
  const exifIfd = exifPointer ? entries(u32(exifPointer.at)) : [];
  const gpsIfd = gpsPointer ? entries(u32(gpsPointer.at)) : [];
  const identifying = [...ifd0, ...exifIfd]
    .filter((e) => IDENTIFYING_TAGS.has(e.tag))
    .map((e) => ({ tag: IDENTIFYING_TAGS.get(e.tag)!, value: text(e) }))
    .filter((t) => t.value !== '');
  // A GPS IFD holding only its version or a time is not a position; latitude or longitude is.
  const gps = gpsIfd.some((e) => e.tag === GPS_LATITUDE || e.tag === GPS_LONGITUDE);
  return { gps, identifying };
}

/** True when an XMP packet carries a GPS position (exif:GPSLatitude / GPSLongitude properties). */
export function xmpHasGps(xmp: Uint8Array): boolean {
  return /GPS(?:Latitude|Longitude)\b/.test(new TextDecoder('utf-8', { fatal: false }).decode(xmp));
}
