// SIGUSR1 / SIGTERM handlers: flags set by real signals, consumed once, previous
// dispositions restored.
#include <ckpt/signals.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>

namespace ckpt {
namespace {

class SignalsTest : public ::testing::Test {
 protected:
  void SetUp() override { clear_signal_requests(); }
  void TearDown() override {
    uninstall_signal_handlers();
    clear_signal_requests();
  }
};

TEST_F(SignalsTest, Sigusr1RequestsOneCheckpoint) {
  ASSERT_TRUE(install_signal_handlers().ok());
  EXPECT_FALSE(checkpoint_requested());
  ASSERT_EQ(raise(SIGUSR1), 0);
  EXPECT_TRUE(checkpoint_requested());
  EXPECT_FALSE(checkpoint_requested()) << "the request is consumed";
  EXPECT_FALSE(exit_requested());
  // A burst before the next safe point is one request.
  raise(SIGUSR1);
  raise(SIGUSR1);
  EXPECT_TRUE(checkpoint_requested());
  EXPECT_FALSE(checkpoint_requested());
}

TEST_F(SignalsTest, SigtermRequestsExitAndStays) {
  ASSERT_TRUE(install_signal_handlers().ok());
  EXPECT_FALSE(exit_requested());
  ASSERT_EQ(raise(SIGTERM), 0);  // the process survives: the handler only sets a flag
  EXPECT_TRUE(exit_requested());
  EXPECT_TRUE(exit_requested()) << "exit stays requested";
  EXPECT_FALSE(checkpoint_requested());
}

TEST_F(SignalsTest, InstallIsIdempotentAndUninstallRestoresPrevious) {
  static std::atomic<int> previous_ran{0};
  struct sigaction mine {
  }, old_usr1{}, old_term{};
  mine.sa_handler = [](int) { previous_ran.fetch_add(1); };
  sigemptyset(&mine.sa_mask);
  ASSERT_EQ(sigaction(SIGUSR1, &mine, &old_usr1), 0);
  ASSERT_EQ(sigaction(SIGTERM, &mine, &old_term), 0);

  ASSERT_TRUE(install_signal_handlers().ok());
  ASSERT_TRUE(install_signal_handlers().ok());
  EXPECT_TRUE(signal_handlers_installed());
  raise(SIGUSR1);
  EXPECT_EQ(previous_ran.load(), 0);
  EXPECT_TRUE(checkpoint_requested());

  uninstall_signal_handlers();
  EXPECT_FALSE(signal_handlers_installed());
  raise(SIGUSR1);
  raise(SIGTERM);
  EXPECT_EQ(previous_ran.load(), 2) << "the application's own handlers are back";
  EXPECT_FALSE(checkpoint_requested());
  EXPECT_FALSE(exit_requested());

  sigaction(SIGUSR1, &old_usr1, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
}

TEST_F(SignalsTest, RequestsWithoutSignals) {
  request_checkpoint();
  EXPECT_TRUE(checkpoint_requested());
  request_exit();
  EXPECT_TRUE(exit_requested());
  clear_signal_requests();
  EXPECT_FALSE(exit_requested());
}

}  // namespace
}  // namespace ckpt
