#!/usr/bin/python3
"""Independent reference for tests/test_envs.cpp: Gymnasium 1.x's classic-control update
equations written out in Python with NumPy scalars (NumPy 1.24, Debian 12's python3-numpy), so
precision and promotion are NumPy's own: float64 states, np.float32 observations, np.clip,
float64 `%` and `**`, float32 scalars promoted to float64 by Python floats.

Trigonometry of float64 values uses the math module, i.e. libm, which is what NumPy's float64
sin/cos call on CPUs without AVX-512 (NumPy 1.24 dispatches them to Intel's SVML on AVX-512,
whose results differ from libm's in the last bit). Float32 values keep NumPy's own float32
sin/cos (Acrobot's first observation).

    /usr/bin/python3 tests/envs_reference.py

prints every value the C++ tests pin, with the scenario that produced it.
"""
import math
import struct

import numpy as np


def cos(x):
    return np.cos(x) if isinstance(x, np.float32) else np.float64(math.cos(x))


def sin(x):
    return np.sin(x) if isinstance(x, np.float32) else np.float64(math.sin(x))


class Fnv:
    """FNV-1a 64 over the trajectory: obs as float32 bytes, reward as float64, flags as bytes."""

    def __init__(self):
        self.h = 0xCBF29CE484222325

    def add(self, data):
        for b in data:
            self.h ^= b
            self.h = (self.h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF

    def step(self, obs, reward, terminated, truncated):
        self.add(np.asarray(obs, dtype=np.float32).tobytes())
        self.add(struct.pack("<d", float(reward)))
        self.add(bytes([int(terminated), int(truncated)]))


class CartPole:
    limit = 500

    def reset(self, rng):
        self.state = rng.uniform(low=-0.05, high=0.05, size=(4,))
        return np.array(self.state, dtype=np.float32)

    def step(self, action):
        gravity, masscart, masspole = 9.8, 1.0, 0.1
        total_mass = masspole + masscart
        length = 0.5
        polemass_length = masspole * length
        force_mag, tau = 10.0, 0.02
        theta_threshold_radians = 12 * 2 * math.pi / 360
        x_threshold = 2.4
        x, x_dot, theta, theta_dot = self.state
        force = force_mag if action == 1 else -force_mag
        costheta = cos(theta)
        sintheta = sin(theta)
        temp = (force + polemass_length * np.square(theta_dot) * sintheta) / total_mass
        thetaacc = (gravity * sintheta - costheta * temp) / (
            length * (4.0 / 3.0 - masspole * np.square(costheta) / total_mass))
        xacc = temp - polemass_length * thetaacc * costheta / total_mass
        x = x + tau * x_dot
        x_dot = x_dot + tau * xacc
        theta = theta + tau * theta_dot
        theta_dot = theta_dot + tau * thetaacc
        self.state = np.array((x, x_dot, theta, theta_dot), dtype=np.float64)
        terminated = bool(x < -x_threshold or x > x_threshold or theta < -theta_threshold_radians
                          or theta > theta_threshold_radians)
        return np.array(self.state, dtype=np.float32), 1.0, terminated

    def set_state(self, s):
        self.state = np.array(s, dtype=np.float64)
        return np.array(self.state, dtype=np.float32)


def wrap(x, m, M):
    diff = M - m
    while x > M:
        x = x - diff
    while x < m:
        x = x + diff
    return x


def bound(x, m, M):
    return min(max(x, m), M)


class Acrobot:
    limit = 500
    dt = 0.2
    pi = math.pi

    def reset(self, rng):
        self.state = rng.uniform(low=-0.1, high=0.1, size=(4,)).astype(np.float32)
        return self.ob()

    def ob(self):
        s = self.state
        return np.array([cos(s[0]), sin(s[0]), cos(s[1]), sin(s[1]), s[2], s[3]],
                        dtype=np.float32)

    def dsdt(self, sa):
        m1 = m2 = l1 = 1.0
        lc1 = lc2 = 0.5
        I1 = I2 = 1.0
        g = 9.8
        pi = self.pi
        a = sa[-1]
        theta1, theta2, dtheta1, dtheta2 = sa[0], sa[1], sa[2], sa[3]
        d1 = m1 * lc1**2 + m2 * (l1**2 + lc2**2 + 2 * l1 * lc2 * cos(theta2)) + I1 + I2
        d2 = m2 * (lc2**2 + l1 * lc2 * cos(theta2)) + I2
        phi2 = m2 * lc2 * g * cos(theta1 + theta2 - pi / 2.0)
        phi1 = (-m2 * l1 * lc2 * dtheta2**2 * sin(theta2)
                - 2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sin(theta2)
                + (m1 * lc1 + m2 * l1) * g * cos(theta1 - pi / 2) + phi2)
        ddtheta2 = (a + d2 / d1 * phi1 - m2 * l1 * lc2 * dtheta1**2 * sin(theta2) - phi2) / (
            m2 * lc2**2 + I2 - d2**2 / d1)
        ddtheta1 = -(d2 * ddtheta2 + phi1) / d1
        return dtheta1, dtheta2, ddtheta1, ddtheta2, 0.0

    def step(self, action):
        torque = [-1.0, 0.0, +1][action]
        y0 = np.append(self.state, torque)
        t = [0, self.dt]
        dt = t[1] - t[0]
        dt2 = dt / 2.0
        k1 = np.asarray(self.dsdt(y0))
        k2 = np.asarray(self.dsdt(y0 + dt2 * k1))
        k3 = np.asarray(self.dsdt(y0 + dt2 * k2))
        k4 = np.asarray(self.dsdt(y0 + dt * k3))
        ns = (y0 + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4))[:4]
        ns[0] = wrap(ns[0], -self.pi, self.pi)
        ns[1] = wrap(ns[1], -self.pi, self.pi)
        ns[2] = bound(ns[2], -4 * self.pi, 4 * self.pi)
        ns[3] = bound(ns[3], -9 * self.pi, 9 * self.pi)
        self.state = ns
        terminated = bool(-cos(ns[0]) - cos(ns[1] + ns[0]) > 1.0)
        return self.ob(), (-1.0 if not terminated else 0.0), terminated

    def set_state(self, s):
        self.state = np.array(s, dtype=np.float64)
        return self.ob()


class MountainCar:
    limit = 200

    def reset(self, rng):
        self.state = np.array([rng.uniform(low=-0.6, high=-0.4), 0])
        return np.array(self.state, dtype=np.float32)

    def step(self, action):
        position, velocity = self.state
        velocity += (action - 1) * 0.001 + math.cos(3 * position) * (-0.0025)
        velocity = np.clip(velocity, -0.07, 0.07)
        position += velocity
        position = np.clip(position, -1.2, 0.6)
        if position == -1.2 and velocity < 0:
            velocity = 0
        terminated = bool(position >= 0.5 and velocity >= 0)
        self.state = (position, velocity)
        return np.array(self.state, dtype=np.float32), -1.0, terminated

    def set_state(self, s):
        self.state = np.array(s, dtype=np.float64)
        return np.array(self.state, dtype=np.float32)


class MountainCarContinuous:
    limit = 999

    def reset(self, rng):
        self.state = np.array([rng.uniform(low=-0.6, high=-0.4), 0])
        return np.array(self.state, dtype=np.float32)

    def step(self, action):
        action = np.array([action], dtype=np.float32)
        position = self.state[0]
        velocity = self.state[1]
        force = min(max(action[0], -1.0), 1.0)
        velocity += force * 0.0015 - 0.0025 * math.cos(3 * position)
        if velocity > 0.07:
            velocity = 0.07
        if velocity < -0.07:
            velocity = -0.07
        position += velocity
        if position > 0.6:
            position = 0.6
        if position < -1.2:
            position = -1.2
        if position == -1.2 and velocity < 0:
            velocity = 0
        terminated = bool(position >= 0.45 and velocity >= 0)
        reward = 0
        if terminated:
            reward = 100.0
        reward -= math.pow(action[0], 2) * 0.1
        self.state = np.array([position, velocity], dtype=np.float32)
        return self.state, reward, terminated

    def set_state(self, s):
        self.state = np.array(s, dtype=np.float64)
        return np.array(self.state, dtype=np.float32)


def angle_normalize(x):
    return ((x + np.pi) % (2 * np.pi)) - np.pi


class Pendulum:
    limit = 200

    def reset(self, rng):
        high = np.array([np.pi, 1.0])
        self.state = rng.uniform(low=-high, high=high)
        return self.obs()

    def obs(self):
        theta, thetadot = self.state
        return np.array([cos(theta), sin(theta), thetadot], dtype=np.float32)

    def step(self, u):
        th, thdot = self.state
        g, m, l, dt = 10.0, 1.0, 1.0, 0.05
        u = np.clip(np.array([u], dtype=np.float32), -2.0, 2.0)[0]
        costs = angle_normalize(th) ** 2 + 0.1 * thdot**2 + 0.001 * (u**2)
        newthdot = thdot + (3 * g / (2 * l) * sin(th) + 3.0 / (m * l**2) * u) * dt
        newthdot = np.clip(newthdot, -8, 8)
        newth = th + newthdot * dt
        self.state = np.array([newth, newthdot])
        return self.obs(), -costs, False

    def set_state(self, s):
        self.state = np.array(s, dtype=np.float64)
        return self.obs()


def f9(x):
    return "%.9g" % float(x)


def f17(x):
    return "%.17g" % float(x)


def run(env, name, policy, seed=None, init_state=None, steps=None, show=(), limit=None):
    """One episode (or `steps` steps without reset) printed as the test pins it."""
    rng = np.random.default_rng(seed)
    obs = env.reset(rng)
    if init_state is not None:
        obs = env.set_state(init_state)
    limit = limit or env.limit
    h = Fnv()
    print(f"== {name}: reset obs", ", ".join(f9(v) for v in obs))
    t = 0
    while True:
        a = policy(obs, t)
        obs, r, term = env.step(a)
        t += 1
        trunc = t >= limit
        h.step(obs, r, term, trunc)
        if t in show or term or trunc or (steps and t == steps):
            print(f"   t={t} a={a} obs", ", ".join(f9(v) for v in obs), "reward", f17(r),
                  "terminated", term, "truncated", trunc)
        if term or trunc or (steps and t == steps):
            break
    print(f"   steps={t} hash=0x{h.h:016x}ull")


def main():
    # CartPole-v1 reset(seed=0), always push right: falls over.
    run(CartPole(), "CartPole right", lambda o, t: 1, seed=0, show=(1, 2, 3))
    # A linear controller on the float32 observation balances it until the 500-step limit.
    run(CartPole(), "CartPole balance", lambda o, t: int(o[2] + 0.5 * o[3] + 0.05 * o[1] > 0),
        seed=3, show=(1, 250))
    run(Acrobot(), "Acrobot cycle", lambda o, t: [0, 1, 2, 2, 1, 0, 0][t % 7], seed=0,
        steps=60, show=(1, 2, 30))
    # Torque along the second joint's velocity pumps energy until the tip rises above the bar;
    # along the first joint's velocity it does not, and the 500-step limit truncates.
    run(Acrobot(), "Acrobot pump", lambda o, t: 2 if o[5] > 0 else 0, seed=0, show=(1,))
    run(Acrobot(), "Acrobot truncated", lambda o, t: 2 if o[4] > 0 else 0, seed=5, show=(1,))
    run(Acrobot(), "Acrobot high start", lambda o, t: 1, seed=0,
        init_state=[3.0, 0.1, 0.0, 0.0])
    run(MountainCar(), "MountainCar idle", lambda o, t: 1, seed=0, show=(1, 2, 100))
    run(MountainCar(), "MountainCar pump", lambda o, t: 2 if o[1] >= 0 else 0, seed=0,
        show=(1,))
    run(MountainCar(), "MountainCar wall", lambda o, t: 0, seed=0, init_state=[-1.19, -0.05],
        steps=2, show=(1, 2))
    run(MountainCarContinuous(), "MountainCarContinuous pump",
        lambda o, t: 1.0 if o[1] >= 0 else -1.0, seed=0, show=(1, 2))
    run(MountainCarContinuous(), "MountainCarContinuous odd actions",
        lambda o, t: [2.0, -3.0, 0.5, 0.3][t % 4], seed=1, steps=4, show=(1, 2, 3, 4))
    run(Pendulum(), "Pendulum cycle", lambda o, t: [2.0, -2.0, 0.7, 3.5, -0.25][t % 5], seed=0,
        show=(1, 2, 3, 100))
    run(Pendulum(), "Pendulum spinning", lambda o, t: 2.0, seed=0, init_state=[20.0, 8.0],
        steps=3, show=(1, 2, 3))
    run(Pendulum(), "Pendulum spinning back", lambda o, t: -2.0, seed=0,
        init_state=[-15.0, -8.0], steps=3, show=(1, 2, 3))
    # Later resets continue the stream: three CartPole resets after reset(seed=42).
    rng = np.random.default_rng(42)
    for k in range(3):
        s = rng.uniform(low=-0.05, high=0.05, size=(4,))
        print(f"== CartPole reset {k} after seed 42:", ", ".join(f17(v) for v in s))
    # NumPy's float32 sin/cos where they differ from the correctly rounded value.
    xs = np.random.default_rng(7).uniform(-0.1, 0.1, 20000).astype(np.float32)
    shown = 0
    for x in xs:
        c, s = np.cos(x), np.sin(x)
        cr, sr = np.float32(math.cos(float(x))), np.float32(math.sin(float(x)))
        if (c != cr or s != sr) and shown < 4:
            print(f"== float32 x={x.view(np.uint32):#x}: numpy cos {c.view(np.uint32):#x} "
                  f"(libm {cr.view(np.uint32):#x}) sin {s.view(np.uint32):#x} "
                  f"(libm {sr.view(np.uint32):#x})")
            shown += 1


if __name__ == "__main__":
    main()
