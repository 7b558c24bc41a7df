#include "line_reader.h"

namespace kv {

void LineReader::feed(std::string_view bytes) {
  if (discarding_) {
    size_t nl = bytes.find('\n');
    if (nl == std::string_view::npos) return;  // still inside the over-long line
    discarding_ = false;
    bytes.remove_prefix(nl + 1);
  }
  buf_.append(bytes);
}

std::optional<LineReader::Line> LineReader::next() {
  size_t nl = buf_.find('\n', pos_);
  if (nl != std::string::npos) {
    std::string_view text = std::string_view(buf_).substr(pos_, nl - pos_);
    pos_ = nl + 1;
    if (text.size() > max_line_) return Line{.too_long = true};
    return Line{.text = text};
  }
  if (pending() > max_line_) {  // no newline in sight: drop what came, and the rest
    buf_.clear();
    pos_ = 0;
    discarding_ = true;
    return Line{.too_long = true};
  }
  buf_.erase(0, pos_);  // keep only the incomplete line
  pos_ = 0;
  return std::nullopt;
}

}  // namespace kv
