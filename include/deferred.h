/*! \file deferred.h
 *  \brief Umbrella header of libdeferred: Twisted's Deferred for C services.
 *
 *  The core (result, failure, deferred, list, reactor) is in the `deferred`
 *  library; the thread pool in `deferred_pool`; the c-ares resolver and the
 *  TCP connect endpoint in `deferred_dns`; remote jobs on NATS JetStream in
 *  `deferred_remote` (built when the NATS C client is found; its header
 *  needs no NATS header, so it is included here either way).
 */
#ifndef DEFERRED_H
#define DEFERRED_H

#include "deferred/error.h"
#include "deferred/alloc.h"
#include "deferred/failure.h"
#include "deferred/result.h"
#include "deferred/deferred.h"
#include "deferred/list.h"
#include "deferred/reactor.h"
#include "deferred/trace.h"
#include "deferred/pool.h"
#include "deferred/dns.h"
#include "deferred/remote.h"

#endif /* DEFERRED_H */
