// The worker pool behind arch.num_threads: every task runs once per run() (also beyond one
// job's 32 tasks); a thread runs its own task when it can (so a network stays on one core); a
// run() inside a task runs in order on that thread; a task's exception reaches the caller;
// many short runs neither lose a task nor hang; and the thread count follows
// arch.num_threads, capped at what is useful.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/pool.hpp"

using edgerl::WorkerPool;

TEST_CASE("pool: each task of a run runs exactly once") {
  for (int threads : {1, 2, 3}) {
    CAPTURE(threads);
    WorkerPool pool(threads);
    CHECK(pool.threads() == threads);
    for (size_t n :
         {size_t{0}, size_t{1}, size_t{2}, size_t{5}, size_t{32}, size_t{33}, size_t{70}}) {
      std::vector<std::atomic<int>> hits(n);
      for (int rep = 0; rep < 100; ++rep) pool.for_each(n, [&](size_t i) { hits[i] += 1; });
      for (size_t i = 0; i < n; ++i) CHECK(hits[i].load() == 100);
    }
  }
}

TEST_CASE("pool: with a task per thread, each thread runs its own task") {
  // Each task waits until both have started, so neither thread can finish one task and take
  // the other: whatever the scheduler does (a loaded machine may hold either thread back),
  // the caller must claim task 0 and the worker task 1, their home tasks. (The wait gives up
  // after 5 s, which only a machine that does not run the worker at all would reach.)
  WorkerPool pool(2);
  const std::thread::id caller = std::this_thread::get_id();
  for (int k = 0; k < 200; ++k) {
    std::thread::id who[2];
    std::atomic<int> started{0};
    pool.for_each(2, [&](size_t i) {
      who[i] = std::this_thread::get_id();
      started += 1;
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (started.load() < 2 && std::chrono::steady_clock::now() < until)
        std::this_thread::yield();
    });
    CHECK((who[0] == caller));
    CHECK((who[1] != caller));
  }
}

TEST_CASE("pool: a run inside a task runs in order on that task's thread") {
  WorkerPool pool(2);
  for (int rep = 0; rep < 200; ++rep) {
    std::vector<size_t> inner[2];
    bool same_thread[2] = {true, true};
    pool.for_each(2, [&](size_t outer) {
      const std::thread::id me = std::this_thread::get_id();
      pool.for_each(3, [&](size_t i) {
        inner[outer].push_back(i);
        same_thread[outer] = same_thread[outer] && std::this_thread::get_id() == me;
      });
    });
    for (int o = 0; o < 2; ++o) {
      CHECK(inner[o] == std::vector<size_t>{0, 1, 2});
      CHECK(same_thread[o]);
    }
  }
}

TEST_CASE("pool: one thread runs the tasks in order on the caller") {
  WorkerPool pool(1);
  std::vector<size_t> order;
  pool.for_each(4, [&](size_t i) {
    order.push_back(i);
    CHECK((std::this_thread::get_id() == std::this_thread::get_id()));
  });
  CHECK(order == std::vector<size_t>{0, 1, 2, 3});
}

TEST_CASE("pool: 100k short runs in a row, and runs after the workers fell asleep") {
  WorkerPool pool(2);
  std::atomic<long> sum{0};
  long expect = 0;
  for (int k = 0; k < 100000; ++k) {
    pool.both([&] { sum += 1; }, [&] { sum += 2; });
    expect += 3;
  }
  CHECK(sum.load() == expect);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the worker sleeps by now
  int a = 0, b = 0;
  pool.both([&] { a = 1; }, [&] { b = 2; });
  CHECK(a == 1);
  CHECK(b == 2);
}

TEST_CASE("pool: the exception of the lowest throwing task reaches the caller") {
  WorkerPool pool(2);
  for (int rep = 0; rep < 100; ++rep) {
    std::atomic<int> ran{0};
    CHECK_THROWS_WITH(pool.for_each(4,
                                    [&](size_t i) {
                                      ran += 1;
                                      if (i == 1 || i == 3)
                                        throw std::runtime_error("task " + std::to_string(i));
                                    }),
                      "task 1");
    CHECK(ran.load() == 4);  // every task ran before run() returned
  }
  int after = 0;
  pool.both([&] { after += 1; }, [&] { after += 0; });  // usable again
  CHECK(after == 1);
}

TEST_CASE("pool: arch.num_threads picks the threads, never more than are useful") {
  CHECK(WorkerPool::threads_for(1, 2) == 1);
  CHECK(WorkerPool::threads_for(2, 2) == 2);
  CHECK(WorkerPool::threads_for(8, 2) == 2);
  CHECK(WorkerPool::threads_for(8, 1) == 1);
  CHECK(WorkerPool::threads_for(0, 1) == 1);
  const int all = WorkerPool::threads_for(0, 256);
  CHECK(all >= 1);
  CHECK(WorkerPool::threads_for(0, 2) == std::min(all, 2));
}

TEST_CASE("pool: side_by_side holds only where tasks reach another thread") {
  WorkerPool one(1), two(2);
  CHECK_FALSE(one.side_by_side());
  CHECK(two.side_by_side());
  std::atomic<int> inside{0};
  two.for_each(2, [&](size_t) { inside += two.side_by_side() ? 1 : 0; });  // runs in place
  CHECK(inside.load() == 0);
  CHECK(two.side_by_side());
}

TEST_CASE("pool: handoffs carry results between the two tasks of a job, round after round") {
  // A chain of hand-overs across the two threads, 2,000 rounds: every wait sees what the
  // other task wrote before its post, and a round never sees an earlier round's events.
  using edgerl::Handoffs;
  WorkerPool pool(2);
  Handoffs h;
  std::vector<int> a(64), b(64);
  for (int round = 1; round <= 2000; ++round) {
    h.begin();
    int seen_by_worker = 0, seen_by_caller = 0;
    pool.both(
        [&] {
          for (int& x : a) x = round;
          h.post(0);
          h.wait(1);
          for (int x : b) seen_by_caller += x == -round;
        },
        [&] {
          h.wait(0);
          for (int x : a) seen_by_worker += x == round;
          for (int& x : b) x = -round;
          h.post(1);
        });
    REQUIRE(seen_by_worker == 64);
    REQUIRE(seen_by_caller == 64);
  }
}

TEST_CASE("pool: a task that fails releases the other's waits, and its error reaches the caller") {
  using edgerl::Handoffs;
  WorkerPool pool(2);
  Handoffs h;
  for (int fails : {0, 1}) {
    CAPTURE(fails);
    auto task = [&](int me) {
      if (me == fails) throw std::runtime_error("task failed");
      h.wait(me == 0 ? 1 : 0);  // never posted: only the failure ends the wait
    };
    try {
      edgerl::run_side_by_side(
          pool, h, [&] { task(0); }, [&] { task(1); });
      FAIL("no exception");
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()) == "task failed");  // the cause, not the other's release
    }
  }
  // And the next round works.
  int got = 0;
  edgerl::run_side_by_side(
      pool, h, [&] { h.post(0); },
      [&] {
        h.wait(0);
        got = 1;
      });
  CHECK(got == 1);
}

TEST_CASE("pool: the task placement tries the other assignment and keeps it only if faster") {
  using edgerl::TaskPlacement;
  TaskPlacement p;
  auto run = [&](int steps, double here, double there) {
    for (int i = 0; i < steps; ++i) p.record(p.swapped() ? there : here);
  };
  CHECK_FALSE(p.swapped());
  run(TaskPlacement::kKeep - 1, 1.0, 0.5);
  CHECK_FALSE(p.swapped());
  run(1, 1.0, 0.5);
  CHECK(p.swapped());  // probing the other assignment
  run(TaskPlacement::kProbe, 1.0, 0.5);
  CHECK(p.swapped());  // it was faster: kept
  run(TaskPlacement::kKeep + TaskPlacement::kProbe, 1.0, 0.5);
  CHECK(p.swapped());  // the probe back was slower: still swapped
  // Speeds change: now the first assignment is faster by more than the margin.
  run(TaskPlacement::kKeep + TaskPlacement::kProbe, 0.5, 1.0);
  CHECK_FALSE(p.swapped());
  // Equal speeds: no change (a probe must be clearly faster).
  for (int k = 0; k < 3; ++k) {
    run(TaskPlacement::kKeep + TaskPlacement::kProbe, 1.0, 0.99);
    CHECK_FALSE(p.swapped());
  }
  // The settling steps after a change count for neither side.
  TaskPlacement q;
  for (int i = 0; i < TaskPlacement::kKeep; ++i) q.record(1.0);
  REQUIRE(q.swapped());
  for (int i = 0; i < TaskPlacement::kProbe; ++i)
    q.record(i < TaskPlacement::kSettle ? 100.0 : 0.5);  // slow while the caches refill
  CHECK(q.swapped());
}

TEST_CASE("pool: the pair guard runs steps alone while the other thread is held back") {
  using edgerl::PairGuard;
  PairGuard g;
  int64_t pair_steps = 0;
  double spent = 0;
  // One step: `pair(k)` seconds for the k-th step on two threads, `alone` on one; returns
  // whether it ran alone.
  auto step = [&](auto pair, double alone) {
    const bool a = g.alone();
    const double s = a ? alone : pair(pair_steps++);
    spent += s;
    g.record(s);
    return a;
  };
  auto count_alone = [&](int steps, auto pair, double alone) {
    int n = 0;
    for (int i = 0; i < steps; ++i) n += step(pair, alone);
    return n;
  };
  const double alone = 100e-6;
  auto quiet = [](int64_t) { return 60e-6; };
  // A stall every 4th step on two threads (the other thread waits for a time slice).
  auto busy = [](int64_t k) { return k % 4 == 3 ? 3e-3 : 60e-6; };

  // Quiet, with a lone stall now and then and steps up to 3x slower: never alone.
  CHECK(count_alone(
            5000, [](int64_t k) { return k % 500 == 499 ? 3e-3 : 60e-6; }, alone) == 0);
  CHECK(count_alone(
            2000, [](int64_t k) { return k % 2 ? 180e-6 : 60e-6; }, alone) == 0);

  // Busy: alone after the second stall.
  int first = -1;
  for (int i = 0; i < 20 && first < 0; ++i)
    if (step(busy, alone)) first = i;
  CHECK(first >= 0);
  CHECK(first <= 9);

  // Busy for 100,000 steps: the trials of two threads lose and their pauses grow, so the
  // steps cost barely more than alone.
  spent = 0;
  const int busy_steps = 100000;
  const int alone_steps = count_alone(busy_steps, busy, alone);
  CHECK(alone_steps > busy_steps - 1000);
  CHECK(spent < 1.03 * busy_steps * alone);

  // Quiet again: two threads within the longest pause and a trial, and they stay.
  const int back = PairGuard::kMaxPause + PairGuard::kSettle + PairGuard::kTrial;
  count_alone(back, quiet, alone);
  CHECK_FALSE(g.alone());
  CHECK(count_alone(5000, quiet, alone) == 0);

  // Stalls often enough to count, but two threads stay faster than one (500 us every 40
  // steps: 72.5 us a step against 100): at most the one look at alone, then two threads.
  CHECK(count_alone(
            20000, [](int64_t k) { return k % 40 == 39 ? 500e-6 : 60e-6; }, alone) <=
        PairGuard::kMinPause + PairGuard::kSettle);
  CHECK(g.alone_steps() > alone_steps);
}
