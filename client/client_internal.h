/* Private to client/. */
#ifndef MF_CLIENT_INTERNAL_H
#define MF_CLIENT_INTERNAL_H

#include "mf_client.h"

void *mf_client__socket(mf_client_t *c);
mf_store_t *mf_client__store(mf_client_t *c);

#endif
