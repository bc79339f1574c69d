// SPDX-License-Identifier: GPL-2.0
/*
 * nfq-oldapi: a netlink queue listener written against libnetfilter_queue's
 * old (libnfnetlink) API, as Suricata and many older programs are: nfq_open,
 * nfq_bind_pf, nfq_create_queue, nfq_set_mode, nfq_set_queue_maxlen,
 * nfq_handle_packet, and verdicts with nfq_set_verdict2 (with a mark) or
 * nfq_set_verdict_batch / nfq_set_verdict_batch2.
 *
 * usage: nfq-oldapi -q NUM [-V accept|drop] [-m MARK] [-b BATCH] [-n COUNT] [-t IDLE]
 *
 *   -V  the verdict for every packet (default accept)
 *   -m  set this mark with the verdict
 *   -b  give verdicts in batches of BATCH packets (one VERDICT_BATCH for
 *       the last id of each batch; what is left when the program ends is
 *       given its verdict then)
 *   -n  exit after COUNT packets
 *   -t  exit after IDLE seconds without a packet (default 10)
 *
 * One line per packet:
 *   nfq-oldapi: queue=0 id=1 hook=1 proto=1 src=10.0.1.2 dst=10.0.2.2 len=84 mark=0x0
 * then "nfq-oldapi: batch verdict id=ID count=N" for each batch, and
 * "nfq-oldapi: N packets" at the end. Exit status 0, 1 on an error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <libnetfilter_queue/libnetfilter_queue.h>

static uint16_t queue_num;
static uint32_t verdict = NF_ACCEPT;
static int have_mark;
static uint32_t mark;
static unsigned int batch;
static unsigned long count;

static unsigned long seen;
static unsigned int pending;
static uint32_t last_id;

static void usage(const char *p)
{
	fprintf(stderr, "usage: %s -q NUM [-V accept|drop] [-m MARK] [-b BATCH] [-n COUNT] [-t IDLE]\n", p);
	exit(2);
}

static unsigned long number(const char *s, unsigned long max, const char *p)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v > max)
		usage(p);
	return v;
}

static int flush_batch(struct nfq_q_handle *qh)
{
	int ret;

	if (!pending)
		return 0;
	if (have_mark)
		ret = nfq_set_verdict_batch2(qh, last_id, verdict, mark);
	else
		ret = nfq_set_verdict_batch(qh, last_id, verdict);
	if (ret < 0) {
		perror("nfq_set_verdict_batch");
		return -1;
	}
	printf("nfq-oldapi: batch verdict id=%u count=%u\n", last_id, pending);
	fflush(stdout);
	pending = 0;
	return 0;
}

static int cb(struct nfq_q_handle *qh, struct nfgenmsg *nfmsg,
	      struct nfq_data *nfa, void *data)
{
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	unsigned char *p = NULL;
	int len = nfq_get_payload(nfa, &p);
	uint32_t id;

	(void)data;
	if (!ph)
		return -1;
	id = ntohl(ph->packet_id);
	printf("nfq-oldapi: queue=%u id=%u hook=%u", ntohs(nfmsg->res_id), id, ph->hook);
	if (len >= 20 && p[0] >> 4 == 4)
		printf(" proto=%u src=%u.%u.%u.%u dst=%u.%u.%u.%u", p[9],
		       p[12], p[13], p[14], p[15], p[16], p[17], p[18], p[19]);
	else
		printf(" proto=?");
	printf(" len=%d mark=0x%x\n", len, nfq_get_nfmark(nfa));
	fflush(stdout);
	seen++;
	if (batch) {
		last_id = id;
		if (++pending == batch)
			return flush_batch(qh);
		return 0;
	}
	if (have_mark)
		return nfq_set_verdict2(qh, id, verdict, mark, 0, NULL);
	return nfq_set_verdict(qh, id, verdict, 0, NULL);
}

int main(int argc, char **argv)
{
	char buf[0x10000 + 4096] __attribute__((aligned));
	struct nfq_handle *h;
	struct nfq_q_handle *qh;
	struct timeval tv = { .tv_sec = 10 };
	int fd, rv, c, have_num = 0;

	while ((c = getopt(argc, argv, "q:V:m:b:n:t:")) != -1) {
		switch (c) {
		case 'q':
			queue_num = number(optarg, 0xffff, argv[0]);
			have_num = 1;
			break;
		case 'V':
			if (!strcmp(optarg, "accept"))
				verdict = NF_ACCEPT;
			else if (!strcmp(optarg, "drop"))
				verdict = NF_DROP;
			else
				usage(argv[0]);
			break;
		case 'm':
			mark = number(optarg, 0xffffffffUL, argv[0]);
			have_mark = 1;
			break;
		case 'b':
			batch = number(optarg, 1024, argv[0]);
			break;
		case 'n':
			count = number(optarg, 1UL << 30, argv[0]);
			break;
		case 't':
			tv.tv_sec = number(optarg, 3600, argv[0]);
			break;
		default:
			usage(argv[0]);
		}
	}
	if (!have_num || optind != argc)
		usage(argv[0]);

	h = nfq_open();
	if (!h) {
		perror("nfq_open");
		return 1;
	}
	/* Obsolete since 3.8, but what old programs still send. */
	if (nfq_unbind_pf(h, AF_INET) < 0) {
		perror("nfq_unbind_pf");
		return 1;
	}
	if (nfq_bind_pf(h, AF_INET) < 0) {
		perror("nfq_bind_pf");
		return 1;
	}
	qh = nfq_create_queue(h, queue_num, &cb, NULL);
	if (!qh) {
		perror("nfq_create_queue");
		return 1;
	}
	if (nfq_set_mode(qh, NFQNL_COPY_PACKET, 0xffff) < 0) {
		perror("nfq_set_mode");
		return 1;
	}
	if (nfq_set_queue_maxlen(qh, 4096) < 0) {
		perror("nfq_set_queue_maxlen");
		return 1;
	}
	fd = nfq_fd(h);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		perror("setsockopt(SO_RCVTIMEO)");
		return 1;
	}
	while (!count || seen < count) {
		rv = recv(fd, buf, sizeof(buf), 0);
		if (rv < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			perror("recv");
			return 1;
		}
		if (nfq_handle_packet(h, buf, rv) < 0) {
			fprintf(stderr, "nfq_handle_packet failed\n");
			return 1;
		}
	}
	if (flush_batch(qh) < 0)
		return 1;
	printf("nfq-oldapi: %lu packets\n", seen);
	nfq_destroy_queue(qh);
	nfq_close(h);
	return 0;
}
