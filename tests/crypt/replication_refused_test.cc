// Replication of an encrypted store is not implemented yet: both ends refuse it at start,
// naming the store, instead of shipping objects the spare cannot read.
#include <ckpt/checkpointer.h>
#include <ckpt/replication.h>
#include <sys/stat.h>

#include "crypt/crypt_util.h"

namespace ckpt::test {
namespace {

TEST(EncryptedReplicationTest, PrimaryAndSpareRefuseAnEncryptedStore) {
  KeyRing keys;
  TempDir dir;
  const std::string store = dir.sub("s");
  {
    auto st = Store::open(store, create_encrypted(keys, {keys.admin.public_key}));
    ASSERT_TRUE(st.ok()) << st.status().to_string();
  }
  Options o{.store = store};
  o.store_options.writer_key = keys.writer_key;
  o.replication.spare = "127.0.0.1:9";
  o.replication.psk_file = dir.sub("psk");
  auto cp = Checkpointer::open(o);
  ASSERT_FALSE(cp.ok());
  EXPECT_EQ(cp.status().code(), Code::kUnsupported);
  EXPECT_NE(cp.status().message().find(store), std::string::npos) << cp.status().message();

  write_all_file(dir.sub("psk"), std::vector<uint8_t>(32, 7));
  ASSERT_EQ(::chmod(dir.sub("psk").c_str(), 0600), 0);
  SpareOptions so;
  so.store = store;
  so.store_options.writer_key = keys.writer_key;
  so.psk_file = dir.sub("psk");
  so.listen = "127.0.0.1:0";
  auto spare = Spare::start(so);
  ASSERT_FALSE(spare.ok());
  EXPECT_EQ(spare.status().code(), Code::kUnsupported);
}

}  // namespace
}  // namespace ckpt::test
