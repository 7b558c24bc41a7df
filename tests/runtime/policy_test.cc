// ckpt::Policy with a fake clock: Young/Daly intervals, re-evaluation as C changes,
// every-N and fixed-interval modes, parsing.
#include <ckpt/policy.h>
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

namespace ckpt {
namespace {

// A clock the test advances by hand.
struct FakeClock {
  std::shared_ptr<double> t = std::make_shared<double>(1000.0);
  Policy::Clock clock() const {
    return [t = t] { return *t; };
  }
  void advance(double s) { *t += s; }
};

TEST(PolicyTest, YoungIntervalForTwoSecondsAndOneHour) {
  EXPECT_NEAR(Policy::young_interval(2, 3600), 120.0, 1e-9);
  FakeClock fc;
  Policy p = Policy::young(3600, fc.clock());
  p.record_checkpoint(2.0);  // the first measurement replaces the initial guess
  EXPECT_DOUBLE_EQ(p.cost_seconds(), 2.0);
  EXPECT_NEAR(p.interval_seconds(), 120.0, 1e-9);
  EXPECT_EQ(p.mode(), Policy::Mode::kYoung);
}

TEST(PolicyTest, DueAfterTheIntervalOfWork) {
  FakeClock fc;
  Policy p = Policy::young(3600, fc.clock());
  p.record_checkpoint(2.0);
  fc.advance(119);
  EXPECT_FALSE(p.due(1));
  EXPECT_FALSE(p.due(1)) << "due() must not change state";
  fc.advance(1.5);
  EXPECT_TRUE(p.due(2));
  p.record_checkpoint(2.0);  // restarts the interval
  EXPECT_FALSE(p.due(3));
}

TEST(PolicyTest, ReevaluatesAsCostChanges) {
  FakeClock fc;
  PolicyTuning tuning;
  tuning.cost_alpha = 0.5;
  Policy p = Policy::young(3600, fc.clock(), tuning);
  EXPECT_NEAR(p.interval_seconds(), Policy::young_interval(1.0, 3600), 1e-9);  // initial guess
  p.record_checkpoint(2.0);
  EXPECT_NEAR(p.interval_seconds(), 120.0, 1e-9);
  p.record_checkpoint(8.0);  // EWMA: 0.5 * 8 + 0.5 * 2 = 5
  EXPECT_DOUBLE_EQ(p.cost_seconds(), 5.0);
  EXPECT_NEAR(p.interval_seconds(), std::sqrt(2 * 5.0 * 3600), 1e-9);
  for (int i = 0; i < 40; ++i) p.record_checkpoint(0.5);
  EXPECT_NEAR(p.cost_seconds(), 0.5, 1e-6);
  EXPECT_NEAR(p.interval_seconds(), 60.0, 1e-3);
}

TEST(PolicyTest, DalyRefinesYoungAndCapsAtMtbf) {
  // C << M: Daly is close to Young minus C plus small terms.
  const double c = 2, m = 3600;
  const double r = c / (2 * m);
  EXPECT_NEAR(Policy::daly_interval(c, m),
              std::sqrt(2 * c * m) * (1 + std::sqrt(r) / 3 + r / 9) - c, 1e-9);
  EXPECT_NEAR(Policy::daly_interval(c, m), 118.67, 0.01);
  // C >= 2M: checkpoint every MTBF.
  EXPECT_DOUBLE_EQ(Policy::daly_interval(100, 40), 40.0);
  FakeClock fc;
  Policy p = Policy::daly(m, fc.clock());
  p.record_checkpoint(c);
  EXPECT_NEAR(p.interval_seconds(), Policy::daly_interval(c, m), 1e-9);
  EXPECT_EQ(p.mode(), Policy::Mode::kDaly);
}

TEST(PolicyTest, EveryNSteps) {
  Policy p = Policy::every_steps(3);
  EXPECT_FALSE(p.due(0));
  EXPECT_FALSE(p.due(1));
  EXPECT_FALSE(p.due(2));
  EXPECT_TRUE(p.due(3));
  EXPECT_FALSE(p.due(4));
  EXPECT_TRUE(p.due(6));
  p.record_checkpoint(5.0);  // cost is tracked but does not change a step policy
  EXPECT_TRUE(p.due(9));
  EXPECT_EQ(p.interval_seconds(), 0.0);
  EXPECT_TRUE(Policy().due(1)) << "the default policy checkpoints every step";
}

TEST(PolicyTest, FixedInterval) {
  FakeClock fc;
  Policy p = Policy::interval(30, fc.clock());
  EXPECT_FALSE(p.due(1));
  fc.advance(30);
  EXPECT_TRUE(p.due(2));
  p.record_checkpoint(10.0);
  EXPECT_DOUBLE_EQ(p.interval_seconds(), 30.0) << "a fixed interval ignores C";
  EXPECT_FALSE(p.due(3));
  fc.advance(29.9);
  EXPECT_FALSE(p.due(4));
  fc.advance(0.2);
  EXPECT_TRUE(p.due(5));
}

TEST(PolicyTest, ObservedMtbfReplacesConfiguredAfterFailures) {
  FakeClock fc;
  Policy p = Policy::young(3600, fc.clock());
  p.record_checkpoint(2.0);
  EXPECT_DOUBLE_EQ(p.mtbf_seconds(), 3600);
  fc.advance(800);
  p.record_failure();
  p.record_failure();  // two failures in 800 s: MTBF 400 s
  EXPECT_DOUBLE_EQ(p.mtbf_seconds(), 400);
  EXPECT_NEAR(p.interval_seconds(), std::sqrt(2 * 2.0 * 400), 1e-9);
}

TEST(PolicyTest, IntervalBounds) {
  FakeClock fc;
  PolicyTuning t;
  t.min_interval_seconds = 5;
  t.max_interval_seconds = 100;
  Policy p = Policy::young(3600, fc.clock(), t);
  p.record_checkpoint(0.0);
  EXPECT_DOUBLE_EQ(p.interval_seconds(), 5);
  p = Policy::young(3600, fc.clock(), t);
  p.record_checkpoint(50.0);
  EXPECT_DOUBLE_EQ(p.interval_seconds(), 100);
}

TEST(PolicyTest, Parse) {
  auto y = Policy::parse("young", 3600);
  ASSERT_TRUE(y.ok()) << y.status().to_string();
  EXPECT_EQ(y->mode(), Policy::Mode::kYoung);
  EXPECT_DOUBLE_EQ(y->mtbf_seconds(), 3600);
  auto e = Policy::parse("every", 20);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->every(), 20u);
  EXPECT_EQ(Policy::parse("interval", 30)->interval_seconds(), 30.0);
  EXPECT_EQ(Policy::parse("daly", 60)->mode(), Policy::Mode::kDaly);
  EXPECT_EQ(Policy::parse("sometimes", 1).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Policy::parse("young", 0).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Policy::parse("every", 2.5).status().code(), Code::kInvalidArgument);
}

TEST(PolicyTest, ParseDuration) {
  EXPECT_DOUBLE_EQ(*Policy::parse_duration("60s"), 60);
  EXPECT_DOUBLE_EQ(*Policy::parse_duration("60"), 60);
  EXPECT_DOUBLE_EQ(*Policy::parse_duration("5m"), 300);
  EXPECT_DOUBLE_EQ(*Policy::parse_duration("2h"), 7200);
  EXPECT_DOUBLE_EQ(*Policy::parse_duration("1.5h"), 5400);
  EXPECT_DOUBLE_EQ(*Policy::parse_duration("1d"), 86400);
  EXPECT_DOUBLE_EQ(*Policy::parse_duration("250ms"), 0.25);
  for (const char* bad : {"", "s", "-5s", "5x", "5 s", " 5s", "0x10", "inf", "nan", "5mm"})
    EXPECT_EQ(Policy::parse_duration(bad).status().code(), Code::kInvalidArgument) << bad;
}

TEST(PolicyTest, Describe) {
  FakeClock fc;
  EXPECT_EQ(Policy::every_steps(20).describe(), "every 20 steps");
  Policy p = Policy::young(60, fc.clock());
  p.record_checkpoint(0.5);
  EXPECT_NE(p.describe().find("young: interval 7.746s"), std::string::npos) << p.describe();
}

}  // namespace
}  // namespace ckpt
