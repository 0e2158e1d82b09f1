// Side features: spec parsing, loading id-keyed files, malformed lines, and
// appending a user's and an item's features to an example.
#include "worker/data/side_features.h"

#include <map>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/test_dirs.h"
#include "worker/data/rating_parser.h"

namespace embedps::data {
namespace {

// Keys grouped by field, from the features an example gained.
std::map<uint16_t, std::vector<uint64_t>> ByField(const Example& ex, size_t from) {
  std::map<uint16_t, std::vector<uint64_t>> out;
  for (size_t i = from; i < ex.keys.size(); ++i) {
    EXPECT_EQ(ex.values[i], 1.0f);
    out[ex.fields[i]].push_back(ex.keys[i]);
  }
  return out;
}

Example Rating(uint64_t user, uint64_t item) {
  Example ex;
  EXPECT_TRUE(ParseMovieLensTabLine(std::to_string(user) + "\t" + std::to_string(item) + "\t4\t1", &ex).ok());
  return ex;
}

TEST(SideFileSpecTest, ParsesSettings) {
  auto spec = ParseSideFileSpec("sep=:: id=1 header=1 cat:2 bucket:3:18,25.5 prefix:4:3 flags:5:19 list:6:pipe list:7");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->separator, "::");
  EXPECT_EQ(spec->id_column, 1);
  EXPECT_TRUE(spec->header);
  ASSERT_EQ(spec->columns.size(), 6u);
  EXPECT_EQ(spec->columns[0].kind, SideColumn::Kind::kCategory);
  EXPECT_EQ(spec->columns[1].kind, SideColumn::Kind::kBucket);
  EXPECT_EQ(spec->columns[1].bounds, (std::vector<double>{18, 25.5}));
  EXPECT_EQ(spec->columns[2].width, 3);
  EXPECT_EQ(spec->columns[3].kind, SideColumn::Kind::kFlags);
  EXPECT_EQ(spec->columns[3].width, 19);
  EXPECT_EQ(spec->columns[4].list_separator, "|");
  EXPECT_EQ(spec->columns[5].column, 7);
  EXPECT_EQ(ParseSideFileSpec("sep=tab cat:1").value().separator, "\t");
}

TEST(SideFileSpecTest, RejectsBadSettings) {
  for (const char* bad : {"", "sep=|", "cat", "cat:x", "cat:1:2", "bucket:1", "bucket:1:5,3",
                          "prefix:2", "flags:5:0", "weird:1", "id=-1 cat:1", "sep= cat:1"}) {
    EXPECT_EQ(ParseSideFileSpec(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

// The spec detected for MovieLens 100K's u.user.
SideFileSpec UUserSpec() { return DetectMovieLensLayout(Side::kUser, "1|24|M|technician|85711").value().spec; }

TEST(ParseSideLineTest, GoodAndMalformedLines) {
  const SideFileSpec spec = UUserSpec();
  SideRow row;
  ASSERT_TRUE(ParseSideLine("7|57|M|administrator|91344\r", spec, Side::kUser, 2, &row).ok());
  EXPECT_EQ(row.id, 7u);
  EXPECT_EQ(row.fields, (std::vector<uint16_t>{2, 3, 4, 5}));
  SideRow same;
  ASSERT_TRUE(ParseSideLine("8|60|M|administrator|91399", spec, Side::kUser, 2, &same).ok());
  EXPECT_EQ(row.keys, same.keys) << "56+ bucket, M, administrator, zip 913";
  SideRow item_side;
  ASSERT_TRUE(ParseSideLine("7|57|M|administrator|91344", spec, Side::kItem, 2, &item_side).ok());
  for (size_t i = 0; i < row.keys.size(); ++i) EXPECT_NE(row.keys[i], item_side.keys[i]);

  auto error = [&](const std::string& line) {
    Status st = ParseSideLine(line, spec, Side::kUser, 2, &row);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << "accepted: " << line;
    return st.message();
  };
  EXPECT_EQ(error(""), "expected at least 5 columns, got 1");
  EXPECT_EQ(error("7|57|M|administrator"), "expected at least 5 columns, got 4");
  EXPECT_EQ(error("seven|57|M|administrator|91344"), "id is not an integer: 'seven'");
  EXPECT_EQ(error("7|5x|M|administrator|91344"), "column 2 is not a number: '5x'");
}

class SideFeaturesTest : public ::testing::Test {
 protected:
  testing::ScratchDir dir_;
};

TEST_F(SideFeaturesTest, MovieLensUsersAndItems) {
  const std::string users = dir_.Write("u.user",
                                       "1|24|M|technician|85711\n"
                                       "2|53|F|other|94043\n"
                                       "3|23|M|writer|85701\n");
  const std::string items = dir_.Write(
      "u.item",
      "1|Toy Story (1995)|01-Jan-1995||http://x|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
      "2|GoldenEye (1995)|01-Jan-1995||http://y|0|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0|1|0|0\n");
  SideFeatures side;
  ASSERT_TRUE(side.LoadDetected(Side::kUser, users, "").ok());
  ASSERT_TRUE(side.LoadDetected(Side::kItem, items, "").ok());
  EXPECT_EQ(side.rows(Side::kUser), 3u);
  EXPECT_EQ(side.rows(Side::kItem), 2u);
  // User fields 2..5 (age, gender, occupation, zip), item genres field 6.
  EXPECT_EQ(side.end_field(), 7);

  Example a = Rating(1, 1), b = Rating(3, 2), c = Rating(2, 2);
  side.Append(&a);
  side.Append(&b);
  side.Append(&c);
  auto fa = ByField(a, 2), fb = ByField(b, 2), fc = ByField(c, 2);
  ASSERT_EQ(fa.size(), 5u);
  for (uint16_t f = 2; f <= 5; ++f) EXPECT_EQ(fa[f].size(), 1u) << f;
  EXPECT_EQ(fa[6].size(), 3u) << "Toy Story has three genres";
  EXPECT_EQ(fb[6].size(), 3u);
  EXPECT_EQ(fa[2], fb[2]) << "ages 24 and 23 share the 18-24 bucket";
  EXPECT_NE(fa[2], fc[2]) << "53 is another bucket";
  EXPECT_EQ(fa[3], fb[3]) << "both M";
  EXPECT_NE(fa[4], fb[4]) << "technician vs writer";
  EXPECT_EQ(fa[5], fb[5]) << "zip prefix 857";
  EXPECT_EQ(fb[6], fc[6]) << "same item, same genres";
  // Genre 3 (Animation) of item 1 vs genres 1, 2, 16 of item 2: no overlap.
  std::set<uint64_t> ga(fa[6].begin(), fa[6].end());
  for (uint64_t k : fb[6]) EXPECT_EQ(ga.count(k), 0u);
  // Every side key differs from the rating's own keys.
  for (size_t i = 2; i < a.keys.size(); ++i) {
    EXPECT_NE(a.keys[i], a.keys[0]);
    EXPECT_NE(a.keys[i], a.keys[1]);
  }
}

TEST_F(SideFeaturesTest, UnknownIdsGetNothing) {
  SideFeatures side;
  ASSERT_TRUE(side.LoadDetected(Side::kUser, dir_.Write("u.user", "1|24|M|technician|85711\n"), "").ok());
  Example ex = Rating(99, 1);
  side.Append(&ex);
  EXPECT_EQ(ex.keys.size(), 2u);
}

TEST_F(SideFeaturesTest, OneMillionFormatsAndKeysIndependentOfLoadOrder) {
  const std::string users = dir_.Write("users.dat", "1::F::1::10::48067\n");
  const std::string movies = dir_.Write("movies.dat", "1::Toy Story (1995)::Animation|Children's|Comedy\n");
  SideFeatures a, b;
  ASSERT_TRUE(a.LoadDetected(Side::kUser, users, "").ok());
  ASSERT_TRUE(a.LoadDetected(Side::kItem, movies, "").ok());
  ASSERT_TRUE(b.LoadDetected(Side::kItem, movies, "").ok());
  ASSERT_TRUE(b.LoadDetected(Side::kUser, users, "").ok());
  Example ea = Rating(1, 1), eb = Rating(1, 1);
  a.Append(&ea);
  b.Append(&eb);
  EXPECT_EQ(ea.keys.size(), 2u + 4 + 3);
  std::multiset<uint64_t> ka(ea.keys.begin(), ea.keys.end()), kb(eb.keys.begin(), eb.keys.end());
  EXPECT_EQ(ka, kb) << "keys depend on side and column, not on the load order";
}

TEST_F(SideFeaturesTest, GenericSpecWithHeaderAndGzip) {
  auto spec = ParseSideFileSpec("sep=comma id=0 header=1 cat:1 list:2:;");
  ASSERT_TRUE(spec.ok());
  const std::string path = dir_.WriteGzip("items.csv.gz", "id,brand,tags\n10,acme,red;big\n11,zeta,\n");
  SideFeatures side(5);
  ASSERT_TRUE(side.Load(Side::kItem, path, *spec).ok());
  EXPECT_EQ(side.end_field(), 7);
  Example a = Rating(1, 10), b = Rating(1, 11);
  side.Append(&a);
  side.Append(&b);
  EXPECT_EQ(a.fields, (std::vector<uint16_t>{0, 1, 5, 6, 6}));
  EXPECT_EQ(b.fields, (std::vector<uint16_t>{0, 1, 5})) << "an empty list adds nothing";
}

TEST_F(SideFeaturesTest, MalformedLinesAreCountedAndJudged) {
  const std::string users = dir_.Write("u.user",
                                       "1|24|M|technician|85711\n"
                                       "2|53|F\n"                     // too few columns
                                       "x|20|F|other|11111\n"         // bad id
                                       "4|old|F|other|11111\n"        // bad age
                                       "1|30|M|writer|22222\n"        // repeated id
                                       "6|30|M|writer|22222\n");
  SideFeatures strict;
  Status st = strict.LoadDetected(Side::kUser, users, "");
  ASSERT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find(users + ": 4 of 6 lines malformed"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("last at line 5: id 1 appears twice"), std::string::npos) << st.message();

  ReaderOptions lenient;
  lenient.max_bad_line_fraction = 0.7;
  SideFeatures side;
  ASSERT_TRUE(side.Load(Side::kUser, users, UUserSpec(), lenient).ok());
  EXPECT_EQ(side.rows(Side::kUser), 2u);

  const std::string items = dir_.Write("u.item", "1|T|d||u|0|0|0|2|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n");
  st = SideFeatures().LoadDetected(Side::kItem, items, "");
  EXPECT_NE(st.message().find("column 9 is not a 0/1 flag: '2'"), std::string::npos) << st.message();

  EXPECT_EQ(SideFeatures().LoadDetected(Side::kUser, dir_.File("u.user.missing"), "").code(),
            StatusCode::kNotFound);
  EXPECT_EQ(SideFeatures().Load(Side::kUser, dir_.File("nope"), UUserSpec()).code(),
            StatusCode::kNotFound);
}

// Side files are known by their content, whatever their name and
// compression; a file of the other side, or of no known layout, is refused
// with what it looks like; a spec flag reads any layout; what was loaded is
// recorded in load order with a spec that reads it back.
TEST_F(SideFeaturesTest, LayoutsAreDetectedByContent) {
  const std::string users = dir_.Write("ml1m_users.txt", "1::F::1::10::48067\n2::M::56::16::70072\n");
  const std::string movies = dir_.WriteGzip("movies.dat.gz", "1::Toy Story (1995)::Animation|Children's|Comedy\n");
  const std::string people = dir_.Write("people", "1|24|M|technician|85711\n");
  SideFeatures side;
  ASSERT_TRUE(side.LoadDetected(Side::kUser, users, "").ok());
  ASSERT_TRUE(side.LoadDetected(Side::kItem, movies, "").ok());
  ASSERT_EQ(side.loaded().size(), 2u);
  EXPECT_EQ(side.loaded()[0].rows, 2u);
  EXPECT_EQ(side.loaded()[0].fields, 4u);
  EXPECT_EQ(side.loaded()[0].spec, "sep=:: id=0 cat:1 cat:2 cat:3 prefix:4:3");
  EXPECT_NE(side.loaded()[0].layout.find("users.dat"), std::string::npos) << side.loaded()[0].layout;
  EXPECT_EQ(side.loaded()[1].spec, "sep=:: id=0 list:2:|");
  EXPECT_EQ(side.loaded()[1].side, Side::kItem);
  SideFeatures hundred_k;
  ASSERT_TRUE(hundred_k.LoadDetected(Side::kUser, people, "").ok());
  EXPECT_EQ(hundred_k.loaded()[0].spec, "sep=| id=0 bucket:1:18,25,35,45,50,56 cat:2 cat:3 prefix:4:3");

  Status wrong_side = SideFeatures().LoadDetected(Side::kItem, users, "");
  EXPECT_EQ(wrong_side.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong_side.message().find("looks like a user file (MovieLens 1M users.dat"), std::string::npos)
      << wrong_side.message();
  const std::string custom = dir_.Write("brands.csv", "10,acme,red\n11,zeta,blue\n");
  Status unknown = SideFeatures().LoadDetected(Side::kItem, custom, "");
  EXPECT_NE(unknown.message().find("--item_features_spec"), std::string::npos) << unknown.message();
  SideFeatures by_spec;
  ASSERT_TRUE(by_spec.LoadDetected(Side::kItem, custom, "sep=comma id=0 cat:1 cat:2").ok());
  EXPECT_EQ(by_spec.rows(Side::kItem), 2u);
  EXPECT_EQ(by_spec.loaded()[0].layout, "--item_features_spec");

  // The recorded spec reads the file back into the same keys.
  for (const SideFeatures* s : {&side, &hundred_k, &by_spec}) {
    SideFeatures again;
    for (const auto& f : s->loaded()) ASSERT_TRUE(again.LoadDetected(f.side, f.path, f.spec).ok()) << f.spec;
    for (uint64_t id : {1, 2, 10, 11}) {
      Example a = Rating(id, id), b = Rating(id, id);
      s->Append(&a);
      again.Append(&b);
      EXPECT_EQ(a.keys, b.keys) << id;
      EXPECT_EQ(a.fields, b.fields) << id;
    }
  }
}

}  // namespace
}  // namespace embedps::data
