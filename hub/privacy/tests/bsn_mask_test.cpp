// A quarantined export is kept with its BSNs masked: the school still sees which line and column
// were refused, but no BSN lies in the clear in the hub's folders.
#include "privacy/bsn.hpp"

#include <gtest/gtest.h>

namespace {

using schakel::privacy::mask_bsns;

TEST(mask_bsns, masks_every_bsn_and_keeps_the_layout) {
  // 123456782 and 111222333 pass the 11-test; 12345678 padded (012345678) does not.
  EXPECT_EQ(mask_bsns("nr;bsn\n1;123456782\n2;12345678\n3;\"111222333\"\n"),
            "nr;bsn\n1;*********\n2;12345678\n3;\"*********\"\n");
}

TEST(mask_bsns, leaves_longer_digit_runs_and_near_misses) {
  const std::string text = "tel 0612345678901; iban 1234567820; datum 20261102; 123456781";
  EXPECT_EQ(mask_bsns(text), text);
  EXPECT_EQ(mask_bsns(""), "");
  EXPECT_EQ(mask_bsns("x123456782"), "x*********");
}

}  // namespace
