// On-disk constants. docs/format.md is the normative description; keep both in step.
#pragma once

#include <cstdint>

namespace ckpt::format {

inline constexpr char kStoreMagic[8] = {'C', 'K', 'P', 'T', 'S', 'T', 'O', 'R'};
inline constexpr char kPackMagic[8] = {'C', 'K', 'P', 'T', 'P', 'A', 'C', 'K'};
inline constexpr char kIndexMagic[8] = {'C', 'K', 'P', 'T', 'P', 'I', 'D', 'X'};
inline constexpr char kManifestMagic[8] = {'C', 'K', 'P', 'T', 'M', 'A', 'N', 'I'};
inline constexpr char kRefMagic[8] = {'C', 'K', 'P', 'T', 'R', 'E', 'F', '1'};
inline constexpr uint32_t kRecordMagic = 0x4352'4b43;  // "CKRC" little-endian
inline constexpr uint32_t kNodeMagic = 0x4e54'4b43;    // "CKTN" little-endian

inline constexpr uint32_t kVersion = 1;

// Store incompat feature bits: a reader must understand every set bit or refuse.
inline constexpr uint64_t kIncompatEncrypted = 1u << 0;  // sealed objects (docs/security.md)
inline constexpr uint64_t kIncompatKnown = kIncompatEncrypted;
// Manifest flag bits.
inline constexpr uint32_t kManifestEncrypted = 1u << 0;  // sealed body, encrypted stores
inline constexpr uint32_t kManifestProcess = 1u << 1;    // CRIU process image (kImage streams)
inline constexpr uint32_t kManifestKnownFlags = kManifestEncrypted | kManifestProcess;

inline constexpr uint8_t kObjectChunk = 1;
inline constexpr uint8_t kObjectNode = 2;
inline constexpr uint8_t kCodecNone = 0;
inline constexpr uint8_t kCodecZstd = 1;
// Codec bit 7: the payload is a sealed envelope (encrypted stores); bits 0-6 are the
// codec of the plaintext inside it.
inline constexpr uint8_t kCodecSealed = 0x80;

inline constexpr uint32_t kStoreHeaderSize = 96;
inline constexpr uint32_t kPackHeaderSize = 32;
inline constexpr uint32_t kRecordHeaderSize = 48;
inline constexpr uint32_t kIndexHeaderSize = 40;
inline constexpr uint32_t kIndexEntrySize = 52;
inline constexpr uint32_t kNodeHeaderSize = 8;
inline constexpr uint32_t kRefSize = 64;
inline constexpr uint32_t kDigestSize = 32;
inline constexpr uint32_t kEnvelopeOverhead = 16 + 12 + 16;  // key id, nonce, GCM tag

inline constexpr uint32_t kDefaultFanout = 64;
inline constexpr uint32_t kMaxFanout = 4096;
inline constexpr uint32_t kMinChunkSize = 4096;
inline constexpr uint32_t kMaxChunkSize = 1u << 24;
// A pack is closed and a new one started past this size.
inline constexpr uint64_t kMaxPackBytes = 512ull << 20;

}  // namespace ckpt::format
