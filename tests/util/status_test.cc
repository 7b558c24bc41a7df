// Status and Result (include/ckpt/status.h, src/util/status.cc): codes, errno mapping,
// messages, context chaining and the early-return macros.
#include <ckpt/status.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <set>
#include <string>

namespace ckpt {
namespace {

TEST(StatusTest, DefaultIsOkWithEmptyMessage) {
  Status st;
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(st.code(), Code::kOk);
  EXPECT_EQ(st.message(), "");
  EXPECT_EQ(st.to_string(), "ok");
}

TEST(StatusTest, ToStringIsCodeNameThenMessage) {
  Status st(Code::kCorruption, "pack 3f2a: bad checksum");
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.to_string(), "corruption: pack 3f2a: bad checksum");
  EXPECT_EQ(Status(Code::kIoError, "x").to_string(), "I/O error: x");
  EXPECT_EQ(Status(Code::kNoSpace, "y").to_string(), "no space: y");
}

TEST(StatusTest, EveryCodeHasItsOwnName) {
  const Code all[] = {Code::kOk,
                      Code::kInvalidArgument,
                      Code::kNotFound,
                      Code::kCorruption,
                      Code::kIoError,
                      Code::kNoSpace,
                      Code::kBusy,
                      Code::kUnsupported,
                      Code::kFailedPrecondition,
                      Code::kAlreadyExists,
                      Code::kInternal};
  std::set<std::string_view> names;
  for (Code c : all) {
    std::string_view n = code_name(c);
    EXPECT_NE(n, "unknown") << int(c);
    EXPECT_FALSE(n.empty()) << int(c);
    names.insert(n);
  }
  EXPECT_EQ(names.size(), std::size(all)) << "two codes share a name";
  EXPECT_EQ(code_name(static_cast<Code>(999)), "unknown");
}

TEST(StatusTest, FromErrnoMapsCodesAndAppendsStrerror) {
  struct Case {
    int err;
    Code code;
  };
  const Case cases[] = {
      {ENOSPC, Code::kNoSpace},
      {EDQUOT, Code::kNoSpace},
      {EFBIG, Code::kNoSpace},
      {ENOENT, Code::kNotFound},
      {ENOTDIR, Code::kNotFound},
      {EEXIST, Code::kAlreadyExists},
      {EWOULDBLOCK, Code::kBusy},
      {EBUSY, Code::kBusy},
      {EINVAL, Code::kInvalidArgument},
      {ENOSYS, Code::kUnsupported},
      {EOPNOTSUPP, Code::kUnsupported},
      {EACCES, Code::kIoError},
      {EIO, Code::kIoError},
      {EROFS, Code::kIoError},
  };
  for (const auto& c : cases) {
    Status st = Status::from_errno(c.err, "open /s/packs/ab.pack");
    EXPECT_EQ(st.code(), c.code) << std::strerror(c.err);
    EXPECT_EQ(st.message(), std::string("open /s/packs/ab.pack: ") + std::strerror(c.err));
  }
}

TEST(StatusTest, WithContextPrefixesAndChains) {
  Status inner = Status::from_errno(ENOSPC, "write /s/tmp/x.tmp");
  Status outer = inner.with_context("checkpoint 7").with_context("persist");
  EXPECT_EQ(outer.code(), Code::kNoSpace);
  EXPECT_EQ(outer.message(),
            std::string("persist: checkpoint 7: write /s/tmp/x.tmp: ") + std::strerror(ENOSPC));
  // The original is a value: unchanged.
  EXPECT_EQ(inner.message().rfind("write ", 0), 0u);
}

TEST(StatusTest, WithContextOnOkStaysOkAndEmpty) {
  Status st = Status().with_context("gc");
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(st.message(), "");
}

TEST(ResultTest, HoldsValueOrStatus) {
  Result<std::string> v(std::string("abc"));
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v.status().ok());
  EXPECT_EQ(*v, "abc");
  EXPECT_EQ(v->size(), 3u);
  std::string moved = std::move(v).value();
  EXPECT_EQ(moved, "abc");

  Result<std::string> e(Status(Code::kNotFound, "checkpoint 1234 not found"));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), Code::kNotFound);
  EXPECT_EQ(e.status().message(), "checkpoint 1234 not found");
}

TEST(ResultTest, HoldsMoveOnlyValues) {
  Result<std::unique_ptr<int>> r(std::make_unique<int>(5));
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 5);
}

Status fails_at(int step, int* reached) {
  for (int i = 0; i < 3; ++i) {
    *reached = i;
    CKPT_RETURN_IF_ERROR(i == step ? Status(Code::kIoError, "step " + std::to_string(i))
                                   : Status());
  }
  return {};
}

Result<int> half(int x) {
  if (x % 2) return Status(Code::kInvalidArgument, std::to_string(x) + " is odd");
  return x / 2;
}

Result<int> quarter(int x) {
  CKPT_ASSIGN_OR_RETURN(int h, half(x));
  CKPT_ASSIGN_OR_RETURN(int q, half(h));
  return q;
}

TEST(StatusMacrosTest, ReturnIfErrorStopsAtTheFirstError) {
  int reached = -1;
  Status st = fails_at(1, &reached);
  EXPECT_EQ(reached, 1);
  EXPECT_EQ(st.message(), "step 1");
  EXPECT_TRUE(fails_at(99, &reached).ok());
  EXPECT_EQ(reached, 2);
}

TEST(StatusMacrosTest, AssignOrReturnPassesValuesAndErrorsThrough) {
  EXPECT_EQ(quarter(12).value(), 3);
  auto odd = quarter(6);  // 6 -> 3, then 3 is odd
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(odd.status().message(), "3 is odd");
}

}  // namespace
}  // namespace ckpt
