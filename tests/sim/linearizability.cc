#include "linearizability.h"

#include <algorithm>
#include <map>
#include <sstream>
#include <unordered_map>

namespace sb::sim {

Model RegisterModel() {
  Model m;
  m.init = 0;
  m.step = [](uint64_t state, const Op& op, uint64_t* next) {
    if (op.kind == kPut) {
      *next = op.input;
      return true;
    }
    *next = state;
    return op.output == state;
  };
  m.describe = [](const Op& op) {
    std::ostringstream os;
    if (op.kind == kPut) {
      os << "put(" << op.key << "=" << op.input << ")";
    } else {
      os << "get(" << op.key << ")->" << op.output;
    }
    os << " client " << op.client << " [" << op.call << ", "
       << (op.ret == kPending ? std::string("pending") : std::to_string(op.ret)) << "]";
    return os.str();
  };
  return m;
}

namespace {

struct Node {
  int op = -1;  // index into ops
  bool is_call = false;
  Node* match = nullptr;  // call -> its return
  Node* prev = nullptr;
  Node* next = nullptr;
};

struct BitsHash {
  size_t operator()(const std::vector<uint64_t>& b) const {
    uint64_t h = 1469598103934665603ull;
    for (uint64_t w : b) h = (h ^ w) * 1099511628211ull;
    return static_cast<size_t>(h);
  }
};

LinReport CheckPartition(const std::vector<const Op*>& ops, const Model& model,
                         uint64_t max_steps) {
  LinReport rep;
  const size_t n = ops.size();
  // Events: calls before returns at equal times (the weaker constraint).
  struct Ev {
    uint64_t t;
    int kind;  // 0 call, 1 return
    int op;
  };
  std::vector<Ev> evs;
  for (size_t i = 0; i < n; ++i) {
    evs.push_back({ops[i]->call, 0, static_cast<int>(i)});
    evs.push_back({ops[i]->ret, 1, static_cast<int>(i)});
  }
  std::stable_sort(evs.begin(), evs.end(), [](const Ev& a, const Ev& b) {
    if (a.t != b.t) return a.t < b.t;
    return a.kind < b.kind;
  });
  std::vector<Node> nodes(evs.size() + 1);
  Node* head = &nodes[evs.size()];  // sentinel
  std::vector<Node*> call_of(n), ret_of(n);
  Node* prev = head;
  for (size_t i = 0; i < evs.size(); ++i) {
    Node* x = &nodes[i];
    x->op = evs[i].op;
    x->is_call = evs[i].kind == 0;
    (x->is_call ? call_of : ret_of)[evs[i].op] = x;
    x->prev = prev;
    prev->next = x;
    prev = x;
  }
  for (size_t i = 0; i < n; ++i) call_of[i]->match = ret_of[i];

  auto lift = [](Node* c) {
    c->prev->next = c->next;
    if (c->next) c->next->prev = c->prev;
    Node* r = c->match;
    r->prev->next = r->next;
    if (r->next) r->next->prev = r->prev;
  };
  auto unlift = [](Node* c) {
    Node* r = c->match;
    r->prev->next = r;
    if (r->next) r->next->prev = r;
    c->prev->next = c;
    if (c->next) c->next->prev = c;
  };

  std::vector<uint64_t> bits((n + 63) / 64, 0);
  std::unordered_map<std::vector<uint64_t>, std::vector<uint64_t>, BitsHash> cache;
  struct Frame {
    Node* call;
    uint64_t state;
  };
  std::vector<Frame> stack;
  uint64_t state = model.init;
  size_t longest = 0;
  std::vector<int> longest_prefix;
  Node* e = head->next;
  while (head->next != nullptr) {
    if (++rep.steps > max_steps) {
      rep.result = LinResult::kUnknown;
      rep.detail = "search budget exhausted";
      return rep;
    }
    if (e != nullptr && e->is_call) {
      uint64_t next = 0;
      const Op& op = *ops[e->op];
      bool ok = model.step(state, op, &next);
      if (ok) {
        bits[e->op / 64] |= 1ull << (e->op % 64);
        auto& seen = cache[bits];
        if (std::find(seen.begin(), seen.end(), next) == seen.end()) {
          seen.push_back(next);
          stack.push_back({e, state});
          state = next;
          lift(e);
          if (stack.size() > longest) {
            longest = stack.size();
            longest_prefix.clear();
            for (auto& f : stack) longest_prefix.push_back(f.call->op);
          }
          e = head->next;
          continue;
        }
        bits[e->op / 64] &= ~(1ull << (e->op % 64));
      }
      e = e->next;
      continue;
    }
    // A return (or the end) blocks: backtrack.
    if (stack.empty()) {
      rep.result = LinResult::kViolation;
      std::ostringstream os;
      os << "no linearization exists; longest legal prefix (" << longest << " of " << n << " ops):";
      size_t from = longest_prefix.size() > 8 ? longest_prefix.size() - 8 : 0;
      if (from > 0) os << "\n    ... (" << from << " earlier)";
      for (size_t k = from; k < longest_prefix.size(); ++k)
        os << "\n    " << model.describe(*ops[longest_prefix[k]]);
      // The operations that could not be placed next.
      os << "\n  the search could not get past the return of:";
      // Find the first pending return after the prefix.
      for (Node* x = head->next; x; x = x->next) {
        if (!x->is_call) {
          os << "\n    " << model.describe(*ops[x->op]);
          break;
        }
      }
      rep.detail = os.str();
      return rep;
    }
    Frame f = stack.back();
    stack.pop_back();
    state = f.state;
    bits[f.call->op / 64] &= ~(1ull << (f.call->op % 64));
    unlift(f.call);
    e = f.call->next;
  }
  rep.result = LinResult::kOk;
  return rep;
}

}  // namespace

LinReport CheckLinearizable(const std::vector<Op>& history, const Model& model,
                            uint64_t max_steps_per_key) {
  std::map<std::string, std::vector<const Op*>> parts;
  for (const Op& op : history) parts[op.key].push_back(&op);
  LinReport total;
  for (auto& [key, ops] : parts) {
    LinReport r = CheckPartition(ops, model, max_steps_per_key);
    total.steps += r.steps;
    if (r.result != LinResult::kOk) {
      r.key = key;
      r.steps = total.steps;
      if (r.result == LinResult::kViolation) return r;
      total = r;  // unknown: keep looking for a definite violation
    }
  }
  return total;
}

}  // namespace sb::sim
