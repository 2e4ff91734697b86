#!/usr/bin/python3
"""NSGA-II on ZDT1 with DEAP, as DEAP's own NSGA-II example sets it up.

30 real variables in [0, 1], population 100, 250 generations, SBX and
polynomial mutation (eta 20, per-variable probability 1/30), crossover
probability 0.9, selTournamentDCD for mating and selNSGA2 for survival.
Prints, per seed, the hypervolume of the final population with respect
to (11, 11) and the wall time, then the mean.

usage: deap_zdt1.py [--seeds 5] [--gens 250] [--pop 100]
"""
import argparse
import array
import random
import time

from deap import base, benchmarks, creator, tools
from deap.benchmarks.tools import hypervolume

NDIM = 30


def run(seed, gens, mu):
    random.seed(seed)
    tb = base.Toolbox()
    tb.register("attr", random.uniform, 0.0, 1.0)
    tb.register("individual", tools.initRepeat, creator.Individual, tb.attr, NDIM)
    tb.register("population", tools.initRepeat, list, tb.individual)
    tb.register("evaluate", benchmarks.zdt1)
    tb.register("mate", tools.cxSimulatedBinaryBounded, low=0.0, up=1.0, eta=20.0)
    tb.register("mutate", tools.mutPolynomialBounded, low=0.0, up=1.0, eta=20.0,
                indpb=1.0 / NDIM)
    tb.register("select", tools.selNSGA2)
    t0 = time.perf_counter()
    pop = tb.population(n=mu)
    for ind in pop:
        ind.fitness.values = tb.evaluate(ind)
    pop = tb.select(pop, len(pop))
    for _ in range(gens):
        offspring = [tb.clone(i) for i in tools.selTournamentDCD(pop, len(pop))]
        for a, b in zip(offspring[::2], offspring[1::2]):
            if random.random() <= 0.9:
                tb.mate(a, b)
            tb.mutate(a)
            tb.mutate(b)
            del a.fitness.values, b.fitness.values
        for ind in offspring:
            if not ind.fitness.valid:
                ind.fitness.values = tb.evaluate(ind)
        pop = tb.select(pop + offspring, mu)
    elapsed = time.perf_counter() - t0
    return hypervolume(pop, [11.0, 11.0]), elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--gens", type=int, default=250)
    ap.add_argument("--pop", type=int, default=100)
    args = ap.parse_args()
    creator.create("FitnessMin", base.Fitness, weights=(-1.0, -1.0))
    creator.create("Individual", array.array, typecode="d", fitness=creator.FitnessMin)
    hvs, times = [], []
    for seed in range(1, args.seeds + 1):
        hv, t = run(seed, args.gens, args.pop)
        hvs.append(hv)
        times.append(t)
        print(f"deap seed {seed}: hypervolume {hv:.6f}  time {t:.3f} s")
    print(f"deap mean: hypervolume {sum(hvs) / len(hvs):.6f}  time {sum(times) / len(times):.3f} s")


if __name__ == "__main__":
    main()
